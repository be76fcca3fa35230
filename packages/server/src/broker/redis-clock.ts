/**
 * This node's estimate of Redis's clock, from TIME replies. An append carries a
 * deadline on Redis's clock (the append script refuses to run past it), so the
 * estimate only decides how long a publish waits, never whether a refused
 * publish can land: that is settled by Redis's own clock.
 */
export class RedisClock {
  // Redis's clock minus ours, in ms; 0 until the first sample.
  #offset = 0;
  #bestRoundTrip = Number.POSITIVE_INFINITY;
  #sampledAt = 0;

  /**
   * Takes one TIME reply (`seconds`, `microseconds`) for a request sent at
   * `sentAt` and answered at `receivedAt` (both `Date.now()`). A sample with a
   * shorter round trip is a tighter bound, so a slower one replaces the estimate
   * only when the current one is older than a minute (clocks drift).
   */
  sample(seconds: string, microseconds: string, sentAt: number, receivedAt: number): void {
    const roundTrip = receivedAt - sentAt;
    if (roundTrip > this.#bestRoundTrip && receivedAt - this.#sampledAt < 60_000) return;
    const redisMs = Number(seconds) * 1000 + Math.floor(Number(microseconds) / 1000);
    this.#offset = redisMs - (sentAt + receivedAt) / 2;
    this.#bestRoundTrip = roundTrip;
    this.#sampledAt = receivedAt;
  }

  /** Now on Redis's clock, in ms, as far as this node can tell. */
  now(): number {
    return Math.round(Date.now() + this.#offset);
  }
}
