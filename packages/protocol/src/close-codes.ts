import { ERRORS, type ClientAction, type ErrorCode } from './errors.js';

/** What the catalog says about one WebSocket close code a hub (or its WebSocket library) sends. */
export interface CloseCodeEntry {
  /** The error code whose goodbye closes with this code; none when the WebSocket library closes by itself. */
  readonly code?: ErrorCode;
  /** What a client does after this close, see {@link ClientAction}: for a `code`, that code's action. */
  readonly client: ClientAction;
}

/**
 * Close codes the WebSocket library sends by itself, with no error code and no
 * `error` message: 1002 for a frame that breaks RFC 6455, 1007 for text that is
 * not UTF-8. (1009, a frame over the limit, is also the library's, but the catalog
 * gives it the code `frame_too_large`.) The client has always treated them as a
 * dropped connection.
 */
export const LIBRARY_CLOSE_CODES = { 1002: 'back_off', 1007: 'back_off' } as const satisfies Record<number, ClientAction>;

/**
 * The catalog entry of a WebSocket close code: the error code that closes with it
 * (the `close` column of `ERRORS`, so the two tables cannot disagree) and its
 * client action, or a library close code. A client needs it when the `error`
 * message before a goodbye was lost, or never sent. Undefined for a close code
 * the hub does not use (1000, 1001, or 1006 when the connection was cut without a
 * close frame): a dropped connection, which clients back off from.
 */
export function closeCodeEntry(close: number | undefined): CloseCodeEntry | undefined {
  for (const [code, entry] of Object.entries(ERRORS)) {
    if ('close' in entry && entry.close === close) return { code: code as ErrorCode, client: entry.client };
  }
  const library = LIBRARY_CLOSE_CODES as Record<number, ClientAction>;
  return close !== undefined && Object.hasOwn(library, close) ? { client: library[close]! } : undefined;
}

/** Every close code in the catalog, in ascending order (the rows of the close-code table in docs/errors.md). */
export function catalogCloseCodes(): number[] {
  const closes = Object.values(ERRORS).flatMap((entry) => ('close' in entry ? [entry.close as number] : []));
  return [...closes, ...Object.keys(LIBRARY_CLOSE_CODES).map(Number)].sort((a, b) => a - b);
}
