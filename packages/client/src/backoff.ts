/**
 * How the delay before a retry is drawn from its ceiling: `full` picks a uniformly
 * random delay below it, `none` waits the ceiling itself.
 */
export type BackoffJitter = 'full' | 'none';

/** Reconnect delays: exponential backoff, with full jitter by default. */
export interface BackoffOptions {
  /** Ceiling of the first delay, in milliseconds. Default 1000. */
  initial?: number;
  /** Growth of the ceiling per failure in a row (at least 1). Default 2. */
  factor?: number;
  /** Largest ceiling, in milliseconds. Default 30000. */
  cap?: number;
  /**
   * `full` (default): each delay is random in `[0, ceiling)`, so clients that lost
   * the same hub spread out. `none`: each delay is exactly the ceiling, for a
   * schedule a person can read off a status line (1, 2, 4, 8, 16 s).
   */
  jitter?: BackoffJitter;
}

/** Backoff settings with every default filled in. */
export type ResolvedBackoff = Required<BackoffOptions>;

/** Defaults: 1 s doubling to a 30 s cap, full jitter. */
export const BACKOFF_DEFAULTS: Readonly<ResolvedBackoff> = { initial: 1000, factor: 2, cap: 30_000, jitter: 'full' };

/**
 * Delay before retry number `attempt` (0 for the first retry). Its ceiling is
 * `min(cap, initial * factor^attempt)`, and never above 1e9 ms; with `full` jitter the delay is a uniformly
 * random value in `[0, ceiling)`, with `none` the ceiling itself. Full jitter
 * (rather than "exponential plus a little noise") spreads a crowd of clients that
 * lost the same hub evenly over the window, so they do not come back in waves;
 * `none` gives up that spreading for a predictable schedule. `random` is injected
 * so tests can pin the bounds.
 */
export function backoffDelay(attempt: number, options: ResolvedBackoff, random: () => number): number {
  // Math.min before the power would overflow to Infinity after ~1000 attempts anyway; clamp the exponent.
  // setTimeout fires at once past 2^31-1 ms; clamping below it (1e9 ms, 11.6 days) keeps `cap: Infinity` from spinning.
  const ceiling = Math.min(options.cap, 1e9, options.initial * options.factor ** Math.min(attempt, 64));
  return Math.floor((options.jitter === 'none' ? 1 : random()) * ceiling);
}
