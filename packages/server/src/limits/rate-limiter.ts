import { TokenBucket } from './token-bucket.js';

// Past this many callers, a new one first sweeps out the full buckets.
const SWEEP_ABOVE_KEYS = 100_000;

/**
 * Token buckets keyed by caller (publish key, token subject or address). One map,
 * refilled lazily on use, so an idle caller costs nothing and there is no timer per key.
 */
export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #now: () => number;

  /** `rate` tokens per second, at most `burst` saved up. */
  constructor(rate: number, burst: number, now: () => number = Date.now) {
    this.#rate = rate;
    this.#burst = burst;
    this.#now = now;
  }

  /** Takes `cost` tokens for `key`; false (taking nothing) when there are not enough. */
  take(key: string, cost = 1): boolean {
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size > SWEEP_ABOVE_KEYS) this.#sweep(now);
      bucket = new TokenBucket(this.#rate, this.#burst, now);
      this.#buckets.set(key, bucket);
    }
    return bucket.take(now, cost);
  }

  // Full buckets carry no information; dropping them bounds memory under many callers.
  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.level(now) >= this.#burst) this.#buckets.delete(key);
    }
  }
}

/** Counts open connections per address. */
export class AddressCounter {
  readonly #counts = new Map<string, number>();

  count(address: string): number {
    return this.#counts.get(address) ?? 0;
  }

  add(address: string): void {
    this.#counts.set(address, this.count(address) + 1);
  }

  remove(address: string): void {
    const next = this.count(address) - 1;
    if (next <= 0) this.#counts.delete(address);
    else this.#counts.set(address, next);
  }
}
