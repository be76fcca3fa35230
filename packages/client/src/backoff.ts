/** Reconnect delays: full-jitter exponential backoff. */
export interface BackoffOptions {
  /** Upper bound of the first delay, in milliseconds. Default 1000. */
  initial?: number;
  /** Growth of the upper bound per failed attempt. Default 2. */
  factor?: number;
  /** Largest upper bound, in milliseconds. Default 30000. */
  cap?: number;
}

/** Backoff settings with every default filled in. */
export type ResolvedBackoff = Required<BackoffOptions>;

/** Defaults: 1 s doubling to a 30 s cap. */
export const BACKOFF_DEFAULTS: ResolvedBackoff = { initial: 1000, factor: 2, cap: 30_000 };

/**
 * Delay before retry number `attempt` (0 for the first retry): a uniformly random
 * value in `[0, min(cap, initial * factor^attempt))`. Full jitter (rather than
 * "exponential plus a little noise") spreads a crowd of clients that lost the same
 * hub evenly over the window, so they do not come back in waves. `random` is
 * injected so tests can pin the bounds.
 */
export function backoffDelay(attempt: number, options: ResolvedBackoff, random: () => number): number {
  // Math.min before the power would overflow to Infinity after ~1000 attempts anyway; clamp the exponent.
  const ceiling = Math.min(options.cap, options.initial * options.factor ** Math.min(attempt, 64));
  return Math.floor(random() * ceiling);
}
