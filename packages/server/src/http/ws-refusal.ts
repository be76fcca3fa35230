import { closeCodeOf, encodeControl, HeraldError, type ErrorCode } from '@herald/protocol';
import type { WebSocket } from 'ws';

/**
 * The refusals of a WebSocket upgrade that are about the caller's credential or
 * rights. A browser never shows a page the HTTP answer to an upgrade (it reports
 * close 1006, as for a network failure), so for these the hub completes the
 * handshake, sends the `error` and closes with the code's 4xxx close code: the
 * page can tell "log in again" (4401, 4001) and "not allowed" (4403) from "the
 * network is down". Every other refusal (bad input, Origin, limits, shutdown)
 * stays an HTTP answer: it is the same for every user of the page and shows up in
 * the browser's network panel, which is where a developer looks for it.
 */
const VISIBLE_REFUSALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['unauthorized', 'token_expired', 'forbidden', 'authorization_unavailable']);

// A client that does not answer the close frame gets this long before the socket is cut.
const CLOSE_GRACE_MS = 1000;

/** The error as a refusal to close the upgraded socket with, or undefined when it must stay an HTTP answer. */
export function visibleRefusal(error: unknown): HeraldError | undefined {
  return error instanceof HeraldError && VISIBLE_REFUSALS.has(error.code) ? error : undefined;
}

/** Ends an upgraded socket with the refusal: its `error` message, then the close frame (reason: the code). */
export function closeRefused(ws: WebSocket, refusal: HeraldError): void {
  ws.on('error', () => undefined);
  ws.send(encodeControl({ type: 'error', code: refusal.code, message: refusal.message }));
  ws.close(closeCodeOf(refusal.code) ?? 1008, refusal.code);
  setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
}
