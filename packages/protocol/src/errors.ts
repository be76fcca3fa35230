/**
 * The one catalog of Herald error codes. Every refusal the hub makes, over HTTP or
 * WebSocket, uses a code from this table; docs/errors.md lists the same rows.
 *
 * `status` is the HTTP status used when the error answers an HTTP request (or a
 * refused WebSocket upgrade). `close` is the WebSocket close code used when the
 * error ends a WebSocket connection; codes without one are sent as an `error`
 * message and the connection stays open.
 */
export const ERRORS = {
  invalid_json: { status: 400, message: 'The body or frame is not valid JSON.' },
  invalid_request: { status: 400, message: 'The request does not have the documented shape.' },
  invalid_topic: { status: 400, message: 'A topic or topic pattern is not valid.' },
  invalid_type: { status: 400, message: 'The event type is not valid.' },
  reserved_type: { status: 400, message: 'The event type is the name of a control message.' },
  invalid_id: { status: 400, message: 'The event id is not valid.' },
  invalid_since: { status: 400, message: 'The resume position (Last-Event-ID, lastEventId or since) is not valid.' },
  invalid_filter: { status: 400, message: 'The subscription filter is not valid.' },
  too_many_topics: { status: 400, message: 'The connection would hold more topics than allowed.' },
  invalid_data: { status: 400, message: 'The event data cannot be serialized as JSON (nested too deeply, circular, or not JSON).' },
  event_too_large: { status: 413, message: 'The serialized event data is larger than allowed.' },
  payload_too_large: { status: 413, message: 'The request body is larger than allowed.' },
  unsupported_media_type: { status: 415, message: 'The request body must be application/json.' },
  request_timeout: { status: 408, message: 'The request took too long to arrive.' },
  header_too_large: { status: 431, message: 'The request headers are larger than allowed.' },
  not_found: { status: 404, message: 'No such endpoint.' },
  method_not_allowed: { status: 405, message: 'The endpoint does not accept this method.' },
  upgrade_required: { status: 426, message: 'This endpoint needs a WebSocket upgrade.' },
  unauthorized: { status: 401, message: 'A valid token is required.' },
  token_expired: { status: 401, close: 4001, message: 'The token has expired or was revoked; reconnect with a fresh token.' },
  forbidden: { status: 403, message: 'The token does not grant this.' },
  authorization_unavailable: { status: 503, message: 'The authorization hook did not answer; try again.' },
  origin_not_allowed: { status: 403, message: 'Requests from this Origin are not allowed.' },
  rate_limited: { status: 429, close: 4029, message: 'Too many requests; slow down.' },
  too_many_connections_from_ip: { status: 429, close: 4008, message: 'This address holds as many connections as allowed.' },
  too_many_connections: { status: 503, message: 'The hub holds as many connections as allowed.' },
  unsupported_data: { status: 400, close: 1003, message: 'Only JSON text frames are accepted.' },
  frame_too_large: { status: 413, close: 1009, message: 'The WebSocket frame is larger than allowed.' },
  slow_consumer: { status: 503, close: 4009, message: 'The connection could not keep up and was dropped; reconnect and resume.' },
  shutting_down: { status: 503, close: 1012, message: 'The hub is shutting down; reconnect after the suggested delay.' },
  broker_unavailable: { status: 503, close: 1013, message: 'The event log is not reachable; try again. A refused publish published nothing.' },
  outcome_unknown: { status: 504, message: 'The event log stopped answering during the publish; the events may or may not be in the log. Retry with the same publisher ids.' },
  internal_error: { status: 500, close: 1011, message: 'An unexpected error occurred in the hub.' },
} as const satisfies Record<string, { status: number; close?: number; message: string }>;

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
