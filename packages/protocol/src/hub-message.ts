import type { ControlMessage, ErrorMessage } from './control.js';
import { isEnvelope, type ControlType, type Envelope } from './envelope.js';

/** A published event, as {@link decodeHubMessage} returns it. */
export interface HubEvent {
  type: 'event';
  event: Envelope;
}

/**
 * An `error` as a client decodes it. `code` is a string rather than an
 * `ErrorCode`: a newer hub may send a code this catalog does not know yet, and
 * the client must still answer the request it refuses (check with `isErrorCode`).
 * A hub that sent no `message` gets its code as the message.
 */
export interface HubError extends Omit<ErrorMessage, 'code'> {
  code: string;
}

/** What {@link decodeHubMessage} returns for anything that is not a message this protocol knows. */
export interface InvalidHubMessage {
  type: 'invalid';
  /** Why, for logs. */
  reason: string;
}

/**
 * One message from the hub, told apart by `type`: every control message (the
 * `type`s of section 4 of docs/protocol.md), `event` for a published event (whose
 * own type is `event.type`), or `invalid`. No control message is named `event` or
 * `invalid`, and no event may use a control name as its type (`reserved_type`).
 */
export type HubMessage = Exclude<ControlMessage, ErrorMessage> | HubError | HubEvent | InvalidHubMessage;

type Fields = Record<string, unknown>;

/** The JSON type a field must have; with a `?`, the field may also be absent. */
type FieldKind = 'string' | 'number' | 'boolean' | 'strings' | 'ref' | 'time';
type FieldRule = FieldKind | `${FieldKind}?`;

function isKind(value: unknown, kind: FieldKind): boolean {
  switch (kind) {
    case 'strings':
      return Array.isArray(value) && value.every((item) => typeof item === 'string');
    case 'ref':
      // Hubs echo a request's ref as they got it: a number or a short string.
      return typeof value === 'number' || typeof value === 'string';
    case 'time':
      // `refreshed.expiresAt`: ms since the epoch, or null for a token without `exp`.
      return value === null || typeof value === 'number';
    default:
      return typeof value === kind;
  }
}

/**
 * The fields of each control message (section 4 of docs/protocol.md) and what a
 * client may rely on once the message is decoded. Reasons (`reset.reason`,
 * `paused.reason`) are checked as strings only, so a reason added by a newer hub
 * still reaches the client: dropping a `reset` would hide a loss.
 */
const CONTROL_FIELDS: Record<ControlType, Record<string, FieldRule>> = {
  connected: { connectionId: 'string', heartbeat: 'number', resumed: 'boolean', lastEventId: 'string?', topics: 'strings?' },
  heartbeat: {},
  reset: { topic: 'string', reason: 'string' },
  error: { code: 'string', message: 'string?', ref: 'ref?', retryAfter: 'number?' },
  subscribed: { topics: 'strings', ref: 'ref?' },
  unsubscribed: { topics: 'strings', ref: 'ref?', reason: 'string?' },
  pong: { ref: 'ref?' },
  published: { id: 'string', duplicate: 'boolean', ref: 'ref?' },
  refreshed: { expiresAt: 'time', ref: 'ref?' },
  paused: { reason: 'string' },
  resumed: {},
} satisfies Record<ControlMessage['type'], Record<string, FieldRule>>;

function hasFields(message: Fields, rules: Record<string, FieldRule>): boolean {
  return Object.entries(rules).every(([name, rule]) => {
    const value = message[name];
    const optional = rule.endsWith('?');
    return (optional && value === undefined) || isKind(value, (optional ? rule.slice(0, -1) : rule) as FieldKind);
  });
}

/**
 * Decodes one message from the hub: the parsed JSON of a WebSocket text frame or
 * of an SSE frame's `data:` (both carry the same object). Pure and total: any
 * value, however malformed, gives a result and never a throw.
 *
 * An object with a string `id` and a string `topic` is an event (the documented
 * rule, protocol.md section 1), and must then have a string `type`, a string
 * `timestamp` and a `data` field. Anything else is a control message named by its
 * `type`. Unknown fields are kept (a newer hub may add some); an unknown `type`
 * is `invalid`, which clients ignore.
 */
export function decodeHubMessage(value: unknown): HubMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid('not a JSON object');
  const m = value as Fields;
  if (isEnvelope(m))
    return typeof m.type === 'string' && typeof m.timestamp === 'string' && 'data' in m ? { type: 'event', event: m } : invalid('malformed event');
  const type = m['type'];
  // Own keys only: `constructor` or `__proto__` name no message.
  if (typeof type !== 'string' || !Object.hasOwn(CONTROL_FIELDS, type)) return invalid(`unknown message type ${typeof type === 'string' ? type : typeof type}`);
  if (!hasFields(m, CONTROL_FIELDS[type as ControlType])) return invalid(`malformed ${type} message`);
  if (type === 'error' && m['message'] === undefined) return { ...m, message: m['code'] } as unknown as HubError;
  return m as unknown as Exclude<HubMessage, HubEvent | InvalidHubMessage>;
}

function invalid(reason: string): InvalidHubMessage {
  return { type: 'invalid', reason };
}
