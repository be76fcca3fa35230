/**
 * What a client does when a connection ends with, or is refused with, an error
 * code. The client (packages/client) reads this instead of keeping its own tables;
 * docs/errors.md shows it in the "Client action" column.
 *
 * - `give_up`: retrying as is cannot succeed (a bad request, a wrong URL, a right
 *   the token lacks). Stop and report the error.
 * - `back_off`: the hub, its log or the path to it is unavailable or overloaded
 *   for now. Reconnect after a growing, jittered delay and resume from the last
 *   event id; failed attempts in a row count towards giving up.
 * - `fresh_token`: the credential is the problem. Fetch a fresh token and
 *   reconnect with it, resuming: at once when the connection had worked (the
 *   token simply ran out), after the back-off delay when the attempt was refused
 *   (so a token source that keeps returning a bad token cannot spin). Without a
 *   way to fetch a token, give up.
 * - `wait`: the hub says when to come back (`retryAfter` on the goodbye): wait
 *   that long, then reconnect and resume. Without a `retryAfter`, back off.
 * - `resume`: the hub is fine but dropped this connection (it fell behind):
 *   reconnect and resume from the last event id. The client waits the first
 *   back-off step (a random delay below `backoff.initial`), as after any dropped
 *   connection, so clients dropped together do not return together.
 */
export type ClientAction = (typeof CLIENT_ACTIONS)[number];

/** Every {@link ClientAction}, in the order docs/errors.md lists them. */
export const CLIENT_ACTIONS = ['give_up', 'back_off', 'fresh_token', 'wait', 'resume'] as const;

/**
 * The one catalog of Herald error codes. Every refusal the hub makes, over HTTP or
 * WebSocket, uses a code from this table; docs/errors.md lists the same rows.
 *
 * `status` is the HTTP status used when the error answers an HTTP request (or a
 * refused WebSocket upgrade). `close` is the WebSocket close code used when the
 * error ends a WebSocket connection; codes without one are sent as an `error`
 * message and the connection stays open. `client` is what a client does when a
 * connection ends with (or is refused with) the code, see {@link ClientAction}.
 *
 * Some `client` values record what the client does rather than what the code's
 * advice in docs/errors.md suggests: the 408, 413, 415 and 431 codes can never
 * answer a connection attempt, and the client has always retried every HTTP
 * status outside 400, 401, 403, 404, 405 and 426 with back-off.
 */
export const ERRORS = {
  invalid_json: { status: 400, client: 'give_up', message: 'The body or frame is not valid JSON.' },
  invalid_request: { status: 400, client: 'give_up', message: 'The request does not have the documented shape.' },
  invalid_topic: { status: 400, client: 'give_up', message: 'A topic or topic pattern is not valid.' },
  invalid_type: { status: 400, client: 'give_up', message: 'The event type is not valid.' },
  reserved_type: { status: 400, client: 'give_up', message: 'The event type is the name of a control message.' },
  invalid_id: { status: 400, client: 'give_up', message: 'The event id is not valid.' },
  invalid_since: { status: 400, client: 'give_up', message: 'The resume position (Last-Event-ID, lastEventId or since) is not valid.' },
  invalid_filter: { status: 400, client: 'give_up', message: 'The subscription filter is not valid.' },
  too_many_topics: { status: 400, client: 'give_up', message: 'The connection would hold more topics than allowed.' },
  invalid_data: { status: 400, client: 'give_up', message: 'The event data cannot be serialized as JSON (nested too deeply, circular, or not JSON).' },
  event_too_large: { status: 413, client: 'back_off', message: 'The serialized event data is larger than allowed.' },
  payload_too_large: { status: 413, client: 'back_off', message: 'The request body is larger than allowed.' },
  unsupported_media_type: { status: 415, client: 'back_off', message: 'The request body must be application/json.' },
  request_timeout: { status: 408, client: 'back_off', message: 'The request took too long to arrive.' },
  header_too_large: { status: 431, client: 'back_off', message: 'The request headers are larger than allowed.' },
  not_found: { status: 404, client: 'give_up', message: 'No such endpoint.' },
  method_not_allowed: { status: 405, client: 'give_up', message: 'The endpoint does not accept this method.' },
  upgrade_required: { status: 426, client: 'give_up', message: 'This endpoint needs a WebSocket upgrade.' },
  // 4401, 4403 and 4503 (4000 + the HTTP status) close a WebSocket upgrade refused
  // for its credential or rights: browsers hide an HTTP answer to an upgrade (the
  // page sees 1006), so the hub accepts it and closes with a code the page can read.
  unauthorized: { status: 401, close: 4401, client: 'fresh_token', message: 'A valid token is required.' },
  token_expired: { status: 401, close: 4001, client: 'fresh_token', message: 'The token has expired or was revoked; reconnect with a fresh token.' },
  forbidden: { status: 403, close: 4403, client: 'give_up', message: 'The token does not grant this.' },
  authorization_unavailable: { status: 503, close: 4503, client: 'back_off', message: 'The authorization hook did not answer; try again.' },
  origin_not_allowed: { status: 403, client: 'give_up', message: 'Requests from this Origin are not allowed.' },
  rate_limited: { status: 429, close: 4029, client: 'back_off', message: 'Too many requests; slow down.' },
  too_many_connections_from_ip: { status: 429, close: 4008, client: 'back_off', message: 'This address holds as many connections as allowed.' },
  too_many_connections: { status: 503, client: 'back_off', message: 'The hub holds as many connections as allowed.' },
  unsupported_data: { status: 400, close: 1003, client: 'back_off', message: 'Only JSON text frames are accepted.' },
  frame_too_large: { status: 413, close: 1009, client: 'back_off', message: 'The WebSocket frame is larger than allowed.' },
  slow_consumer: { status: 503, close: 4009, client: 'resume', message: 'The connection could not keep up and was dropped; reconnect and resume.' },
  shutting_down: { status: 503, close: 1012, client: 'wait', message: 'The hub is shutting down; reconnect after the suggested delay.' },
  broker_unavailable: {
    status: 503,
    close: 1013,
    client: 'back_off',
    message: 'The event log is not reachable; try again. A refused publish published nothing.',
  },
  outcome_unknown: {
    status: 504,
    client: 'back_off',
    message: 'The event log stopped answering during the publish; the events may or may not be in the log. Retry with the same publisher ids.',
  },
  internal_error: { status: 500, close: 1011, client: 'back_off', message: 'An unexpected error occurred in the hub.' },
} as const satisfies Record<string, { status: number; close?: number; client: ClientAction; message: string }>;

/** A documented Herald error code. */
export type ErrorCode = keyof typeof ERRORS;

/** The JSON body of every HTTP error answer: `{"error":{"code","message"}}`. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/** HTTP status for an error code. */
export function statusOf(code: ErrorCode): number {
  return ERRORS[code].status;
}

/** WebSocket close code for an error that ends the connection, or undefined when the error is only reported. */
export function closeCodeOf(code: ErrorCode): number | undefined {
  const entry = ERRORS[code];
  return 'close' in entry ? entry.close : undefined;
}

/** What a client does when a connection ends with, or is refused with, `code`. */
export function clientActionOf(code: ErrorCode): ClientAction {
  return ERRORS[code].client;
}

/**
 * What a client does when an HTTP request is refused with `status` but no code it
 * knows (a proxy's answer, or a code from a newer hub): the strictest action among
 * the catalog's codes with that status (`give_up`, then `fresh_token`), else
 * `back_off`. So a 400 or 403 gives up, a 401 fetches a fresh token, and a 502
 * backs off.
 */
export function clientActionOfStatus(status: number): ClientAction {
  const actions = new Set<ClientAction>();
  for (const entry of Object.values(ERRORS)) if (entry.status === status) actions.add(entry.client);
  return actions.has('give_up') ? 'give_up' : actions.has('fresh_token') ? 'fresh_token' : 'back_off';
}

/** True when `value` is one of the documented codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}

/**
 * An error carrying a catalog code. Validation functions throw it so that every
 * transport can turn it into its own answer (HTTP status, `error` message or close).
 */
export class HeraldError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message?: string) {
    super(message ?? ERRORS[code].message);
    this.name = 'HeraldError';
    this.code = code;
  }

  /** The JSON body used for HTTP answers. */
  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}
