import { ERROR_MESSAGES } from './error-messages.js';
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
const ERROR_CATALOG = {
  invalid_json: { status: 400, client: 'give_up' },
  invalid_request: { status: 400, client: 'give_up' },
  invalid_topic: { status: 400, client: 'give_up' },
  invalid_type: { status: 400, client: 'give_up' },
  reserved_type: { status: 400, client: 'give_up' },
  invalid_id: { status: 400, client: 'give_up' },
  invalid_since: { status: 400, client: 'give_up' },
  invalid_filter: { status: 400, client: 'give_up' },
  too_many_topics: { status: 400, client: 'give_up' },
  invalid_data: { status: 400, client: 'give_up' },
  event_too_large: { status: 413, client: 'back_off' },
  payload_too_large: { status: 413, client: 'back_off' },
  unsupported_media_type: { status: 415, client: 'back_off' },
  request_timeout: { status: 408, client: 'back_off' },
  header_too_large: { status: 431, client: 'back_off' },
  not_found: { status: 404, client: 'give_up' },
  method_not_allowed: { status: 405, client: 'give_up' },
  upgrade_required: { status: 426, client: 'give_up' },
  unauthorized: { status: 401, close: 4401, client: 'fresh_token' },
  token_expired: { status: 401, close: 4001, client: 'fresh_token' },
  forbidden: { status: 403, close: 4403, client: 'give_up' },
  authorization_unavailable: { status: 503, close: 4503, client: 'back_off' },
  origin_not_allowed: { status: 403, client: 'give_up' },
  rate_limited: { status: 429, close: 4029, client: 'back_off' },
  too_many_connections_from_ip: { status: 429, close: 4008, client: 'back_off' },
  too_many_connections: { status: 503, client: 'back_off' },
  unsupported_data: { status: 400, close: 1003, client: 'back_off' },
  frame_too_large: { status: 413, close: 1009, client: 'back_off' },
  slow_consumer: { status: 503, close: 4009, client: 'resume' },
  shutting_down: { status: 503, close: 1012, client: 'wait' },
  broker_unavailable: { status: 503, close: 1013, client: 'back_off' },
  outcome_unknown: { status: 504, client: 'back_off' },
  internal_error: { status: 500, close: 1011, client: 'back_off' },
} as const satisfies Record<string, { status: number; close?: number; client: ClientAction }>;

/** A documented Herald error code. */
export type ErrorCode = keyof typeof ERROR_CATALOG;

type CatalogRow<K extends ErrorCode> = (typeof ERROR_CATALOG)[K] & { readonly message: string };

/**
 * The catalog with each code's default message. The messages live in
 * error-messages.ts, which browser builds replace with an empty table (the
 * package's `browser` field): the client always words its own errors, so the
 * texts would only weigh on its bundle. There, a default message is the code.
 */
export const ERRORS = Object.fromEntries(Object.entries(ERROR_CATALOG).map(([code, row]) => [code, { ...row, message: ERROR_MESSAGES[code] ?? code }])) as {
  readonly [K in ErrorCode]: CatalogRow<K>;
};

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
