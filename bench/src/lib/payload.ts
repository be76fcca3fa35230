/**
 * The benchmark event payload: `{"t":<send time µs>,"s":<seq>,"p":"xxx…"}`, padded so
 * that `JSON.stringify(data)` is exactly EVENT_DATA_BYTES long. Receivers on sampled
 * connections find `"t":` in the frame and subtract it from their own clock.
 */

/** Size of each event's `data`, as the issue asks (200-byte events). */
export const EVENT_DATA_BYTES = 200;

const PAD = 'x'.repeat(EVENT_DATA_BYTES);

/**
 * Microseconds on CLOCK_MONOTONIC. `process.hrtime` reads the same system-wide
 * clock in every process, so a publisher and a receiver in different processes
 * can subtract their readings.
 */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** The JSON text of one event's data, exactly EVENT_DATA_BYTES long. */
export function eventData(seq: number, sentUs: number = nowUs()): string {
  const head = `{"t":${sentUs},"s":${seq},"p":"`;
  return `${head}${PAD.slice(0, EVENT_DATA_BYTES - head.length - 2)}"}`;
}

const T_KEY = Buffer.from('"t":');

/** The send time carried in a frame (µs), or -1 when there is none. */
export function sentTimeIn(frame: Buffer, from = 0): number {
  const at = frame.indexOf(T_KEY, from);
  if (at < 0) return -1;
  let value = 0;
  for (let i = at + 4; i < frame.length; i++) {
    const digit = frame[i]! - 48;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }
  return value;
}
