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

/** Serializes event data, throwing `event_too_large` when it exceeds the limit. */
export function serializeData(data: unknown, maxEventBytes: number): string {
  const json = JSON.stringify(data) ?? 'null';
  // UTF-8 is at most 3 bytes per UTF-16 unit: short text needs no byte count.
  const size = json.length * 3 <= maxEventBytes ? json.length : Buffer.byteLength(json);
  if (size > maxEventBytes) {
    throw new HeraldError('event_too_large', `event data is ${size} bytes serialized; the limit is ${maxEventBytes}`);
  }
  return json;
}

function withIndex<T>(index: number, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof HeraldError) throw new HeraldError(error.code, `events[${index}]: ${error.message}`);
    throw error;
  }
}
