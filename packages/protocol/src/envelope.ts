import { HeraldError } from './errors.js';

/**
 * One published event as it travels to subscribers. The same JSON object is the
 * SSE `data:` line and the WebSocket text frame. Events always carry `id` and
 * `topic`; control messages never carry both, which is how clients tell them apart.
 */
export interface Envelope<Data = unknown> {
  /** Opaque event id: hub-generated (epoch and position) or publisher-supplied. */
  id: string;
  /** The concrete topic the event was published to. */
  topic: string;
  /** The publisher's event type, `message` when none was given. */
  type: string;
  /** Any JSON value. */
  data: Data;
  /** ISO-8601 UTC time at which the hub accepted the event. */
  timestamp: string;
}

/** Event type used when a publisher gives none. */
export const DEFAULT_EVENT_TYPE = 'message';

/** Longest event type, in characters. */
export const MAX_TYPE_LENGTH = 64;

/** Longest publisher-supplied event id, in characters. */
export const MAX_ID_LENGTH = 128;

/** Names of control messages; no event may use one as its type. */
export const CONTROL_TYPES = [
  'connected',
  'heartbeat',
  'reset',
  'error',
  'subscribed',
  'unsubscribed',
  'pong',
  'published',
  'refreshed',
  'paused',
  'resumed',
] as const;

/** A control-message type name. */
export type ControlType = (typeof CONTROL_TYPES)[number];

// Pure: a bundle that never checks a type (the browser client) drops the set.
const CONTROL_TYPE_SET: ReadonlySet<string> = /* @__PURE__ */ new Set(CONTROL_TYPES);

// Strict because a type may become an SSE `event:` field in compatibility modes.
const TYPE_PATTERN = /^[A-Za-z0-9_\-.:]+$/;

// Ids become SSE `id:` lines and Last-Event-ID headers, so no CR, LF, NUL or
// whitespace; '/' is allowed for ids such as "orders/42/created".
const ID_PATTERN = /^[A-Za-z0-9_\-.:~@=+/]+$/;

/** Throws `invalid_type` or `reserved_type` unless `value` may be an event type. */
export function assertEventType(value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new HeraldError('invalid_type', 'type must be a non-empty string');
  }
  if (value.length > MAX_TYPE_LENGTH) {
    throw new HeraldError('invalid_type', `type is longer than ${MAX_TYPE_LENGTH} characters`);
  }
  if (!TYPE_PATTERN.test(value)) {
    throw new HeraldError('invalid_type', 'type may contain only letters, digits and _-.:');
  }
  if (CONTROL_TYPE_SET.has(value)) {
    throw new HeraldError('reserved_type', `type "${value}" is the name of a control message`);
  }
}

/** Throws `invalid_id` unless `value` may be a publisher-supplied event id. */
export function assertEventId(value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new HeraldError('invalid_id', 'id must be a non-empty string');
  }
  if (value.length > MAX_ID_LENGTH) {
    throw new HeraldError('invalid_id', `id is longer than ${MAX_ID_LENGTH} characters`);
  }
  if (!ID_PATTERN.test(value)) {
    throw new HeraldError('invalid_id', 'id may contain only letters, digits and _-.:~@=+/');
  }
}

/** True when `value` could be an event id (the same rule as {@link assertEventId}); used for resume positions. */
export function isEventId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH && ID_PATTERN.test(value);
}

/**
 * True when a type names a control message. Deliberate API for embedders that
 * check event types without throwing; `assertEventType` is what the hub uses, and
 * `decodeHubMessage` keeps its own table of control messages (the browser client
 * would otherwise carry this set as well).
 */
export function isControlType(value: string): value is ControlType {
  return CONTROL_TYPE_SET.has(value);
}

/** True when a decoded hub message is an event rather than a control message. */
export function isEnvelope(message: unknown): message is Envelope {
  if (typeof message !== 'object' || message === null) return false;
  const m = message as Record<string, unknown>;
  return typeof m['id'] === 'string' && typeof m['topic'] === 'string';
}

/**
 * Serializes an envelope with its fields in the documented order. `dataJson`, when
 * given, must be `JSON.stringify(envelope.data)` (the hub measures every event's data
 * on the way in, and the Redis log stores it as text): it is spliced in as is, so
 * data is never stringified twice. For a valid envelope (string id, topic, type and
 * timestamp) the bytes are JSON.stringify's; data that serializes to nothing
 * (undefined, a function) is written as `null`, where JSON.stringify would drop the
 * key, because every envelope carries `data`.
 */
export function serializeEnvelope(envelope: Envelope, dataJson: string = JSON.stringify(envelope.data) ?? 'null'): string {
  return (
    `{"id":${JSON.stringify(envelope.id)},"topic":${JSON.stringify(envelope.topic)},"type":${JSON.stringify(envelope.type)},` +
    `"data":${dataJson},"timestamp":${JSON.stringify(envelope.timestamp)}}`
  );
}
