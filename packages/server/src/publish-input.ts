import { assertEventId, assertEventType, assertTopic, DEFAULT_EVENT_TYPE, HeraldError } from '@herald/protocol';
import type { EventDraft } from './broker/broker.js';

const KEYS = new Set(['topic', 'type', 'data', 'id']);

/**
 * Turns a POST /publish body (one event object or a non-empty array of them) into
 * drafts. All or nothing: the first bad item rejects the whole body, so a batch is
 * never half published.
 */
export function parsePublishBody(body: unknown, maxEventBytes: number): EventDraft[] {
  if (Array.isArray(body)) {
    if (body.length === 0) throw new HeraldError('invalid_request', 'the array of events is empty');
    return body.map((item, index) => withIndex(index, () => toDraft(item, maxEventBytes)));
  }
  return [toDraft(body, maxEventBytes)];
}

/** Validates one event given as separate fields (WebSocket publish, in-process publish). */
export function toDraft(item: unknown, maxEventBytes: number): EventDraft {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    throw new HeraldError('invalid_request', 'an event must be a JSON object with topic, data and optional type and id');
  }
  const raw = item as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!KEYS.has(key)) throw new HeraldError('invalid_request', `unknown field "${key}"; an event has topic, type, data and id`);
  }
  assertTopic(raw['topic']);
  const type = raw['type'] ?? DEFAULT_EVENT_TYPE;
  assertEventType(type);
  if (!('data' in raw) || raw['data'] === undefined) {
    throw new HeraldError('invalid_request', 'an event needs a data field (null is allowed)');
  }
  const draft: EventDraft = { topic: raw['topic'], type, data: raw['data'], dataJson: serializeData(raw['data'], maxEventBytes) };
  if (raw['id'] !== undefined && raw['id'] !== null) {
    assertEventId(raw['id']);
    draft.id = raw['id'];
  }
  return draft;
}

/**
 * How deep arrays and objects may nest in event data: `[[1]]` is 2 levels. Deeper
 * data is refused with `invalid_data`. Far beyond any real payload, and far below
 * the depths at which a recursive JSON walker (JSON.stringify here, a client's
 * parser or renderer) runs out of stack.
 */
export const MAX_DATA_DEPTH = 64;

/**
 * Serializes event data, throwing `invalid_data` when it is not JSON (circular,
 * BigInt, a throwing `toJSON`, a function, nested deeper than MAX_DATA_DEPTH) and
 * `event_too_large` when it exceeds the limit.
 */
export function serializeData(data: unknown, maxEventBytes: number): string {
  const json = stringify(data);
  // Nesting deeper than the limit takes an opening and a closing bracket per level,
  // so the common short event skips the scan.
  if (json.length > 2 * MAX_DATA_DEPTH && nestsDeeperThan(json, MAX_DATA_DEPTH)) throw tooDeep();
  // UTF-8 is at most 3 bytes per UTF-16 unit: short text needs no byte count.
  const size = json.length * 3 <= maxEventBytes ? json.length : Buffer.byteLength(json);
  if (size > maxEventBytes) {
    throw new HeraldError('event_too_large', `event data is ${size} bytes serialized; the limit is ${maxEventBytes}`);
  }
  return json;
}

function stringify(data: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (error) {
    // Thousands of levels exhaust the stack inside JSON.stringify before any scan could run.
    if (error instanceof RangeError && /call stack/i.test(error.message)) throw tooDeep();
    const reason = error instanceof Error ? error.message : String(error);
    throw new HeraldError('invalid_data', `event data cannot be serialized as JSON: ${reason.slice(0, 200)}`);
  }
  // undefined, a function or a symbol: JSON has no text for them.
  if (json === undefined) throw new HeraldError('invalid_data', `event data cannot be serialized as JSON: a ${typeof data} is not JSON`);
  return json;
}

function tooDeep(): HeraldError {
  return new HeraldError('invalid_data', `event data is nested more than ${MAX_DATA_DEPTH} levels deep`);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * True when JSON text (as JSON.stringify writes it) nests arrays and objects more
 * than `limit` levels deep. One pass over the structure; short strings (keys, most
 * values) are stepped over inline and long ones skipped with indexOf, which halved
 * the cost against either alone on mixed data (about half a JSON.stringify of it).
 */
export function nestsDeeperThan(json: string, limit: number): boolean {
  let depth = 0;
  const length = json.length;
  for (let i = 0; i < length; i++) {
    const code = json.charCodeAt(i);
    if (code === QUOTE) i = stringEnd(json, i);
    else if (code === OPEN_ARRAY || code === OPEN_OBJECT) {
      if (++depth > limit) return true;
    } else if (code === CLOSE_ARRAY || code === CLOSE_OBJECT) depth--;
  }
  return false;
}

const INLINE_STRING_SCAN = 24;

/** Index of the quote that closes the string opened at `open`. */
function stringEnd(json: string, open: number): number {
  const stop = Math.min(json.length, open + INLINE_STRING_SCAN);
  let at = open + 1;
  for (; at < stop; at++) {
    const code = json.charCodeAt(at);
    if (code === QUOTE) return at;
    if (code === BACKSLASH) at++;
  }
  // A long string: jump from quote to quote; one after an odd run of backslashes is escaped.
  for (at--; ;) {
    at = json.indexOf('"', at + 1);
    if (at < 0) return json.length;
    let backslashes = 0;
    while (json.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
}

function withIndex<T>(index: number, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof HeraldError) throw new HeraldError(error.code, `events[${index}]: ${error.message}`);
    throw error;
  }
}
