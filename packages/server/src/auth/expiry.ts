/**
 * Ends connections when their token expires, with one shared one-second timer
 * instead of a timer per connection.
 */
export class ExpiryScheduler<T> {
  readonly #deadlines = new Map<T, number>();
  readonly #onExpired: (item: T) => void;
  readonly #timer: NodeJS.Timeout;
  readonly #now: () => number;

  constructor(onExpired: (item: T) => void, now: () => number = Date.now, intervalMs = 1000) {
    this.#onExpired = onExpired;
    this.#now = now;
    this.#timer = setInterval(() => this.sweep(), intervalMs);
    this.#timer.unref();
  }

  /** Sets (or moves) an item's deadline in milliseconds since the epoch; undefined clears it. */
  set(item: T, deadline: number | undefined): void {
    if (deadline === undefined) this.#deadlines.delete(item);
    else this.#deadlines.set(item, deadline);
  }

  delete(item: T): void {
    this.#deadlines.delete(item);
  }

  /** Expires every item whose deadline has passed. */
  sweep(): void {
    const now = this.#now();
    for (const [item, deadline] of this.#deadlines) {
      if (deadline > now) continue;
      this.#deadlines.delete(item);
      this.#onExpired(item);
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
