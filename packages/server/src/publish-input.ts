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
  assertDataSize(raw['data'], maxEventBytes);
  const draft: EventDraft = { topic: raw['topic'], type, data: raw['data'] };
  if (raw['id'] !== undefined && raw['id'] !== null) {
    assertEventId(raw['id']);
    draft.id = raw['id'];
  }
  return draft;
}

/** Throws `event_too_large` when the serialized data exceeds the limit. */
export function assertDataSize(data: unknown, maxEventBytes: number): void {
  const size = Buffer.byteLength(JSON.stringify(data) ?? 'null');
  if (size > maxEventBytes) {
    throw new HeraldError('event_too_large', `event data is ${size} bytes serialized; the limit is ${maxEventBytes}`);
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
