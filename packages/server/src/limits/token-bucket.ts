/**
 * A token bucket in two numbers and no timer: it refills lazily, from the time
 * that passed since it was last used, whenever it is asked for tokens. Both rate
 * limits of the hub use it: the publish budget per publisher (`RateLimiter`) and
 * the inbound message budget of each WebSocket connection.
 */
export class TokenBucket {
  /** Tokens added per second. */
  readonly rate: number;
  /** Most tokens the bucket holds; a new bucket starts full. */
  readonly burst: number;
  #tokens: number;
  #at: number;

  /** A full bucket of `burst` tokens refilling at `rate` per second, as of `now` (milliseconds). */
  constructor(rate: number, burst: number, now: number) {
    this.rate = rate;
    this.burst = burst;
    this.#tokens = burst;
    this.#at = now;
  }

  /** Tokens the bucket holds at `now`, refill included (never more than `burst`). */
  level(now: number): number {
    return Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.rate);
  }

  /**
   * Takes `cost` tokens at `now`; false, taking nothing, when fewer are there. An
   * empty bucket stays usable: a caller refused now is served again once enough
   * time has passed, with no penalty for having asked.
   */
  take(now: number, cost = 1): boolean {
    this.#tokens = this.level(now);
    this.#at = now;
    if (this.#tokens < cost) return false;
    this.#tokens -= cost;
    return true;
  }
}
