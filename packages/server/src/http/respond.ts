import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { HeraldError, statusOf } from '@herald/protocol';
import { STATUS_CODES } from 'node:http';

/** Sends a JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Sends `{"error":{"code","message"}}` with the code's status. */
export function sendError(res: ServerResponse, error: HeraldError, headers: Record<string, string> = {}): void {
  sendJson(res, statusOf(error.code), error.toBody(), headers);
}

// The answer each socket still owes. Node reports bytes it cannot parse after a
// request (a body longer than its Content-Length) as a client error while that
// request may still be being answered, and it was read in full: it may well have
// been published, so its own answer must not be replaced by a 400.
const owed = new WeakMap<Duplex, { req: IncomingMessage; res: ServerResponse }>();

/** Notes that `res` is the answer its socket owes until it is sent (see answerClientError). */
export function owesAnswer(req: IncomingMessage, res: ServerResponse): void {
  const socket = res.socket;
  if (socket === null) return;
  const entry = { req, res };
  owed.set(socket, entry);
  res.once('close', () => {
    if (owed.get(socket) === entry) owed.delete(socket);
  });
}

/**
 * Answers a request Node could not parse (headers over the size limit, malformed
 * HTTP) with the documented JSON error instead of a bare status line. When the
 * socket still owes the answer to an earlier request, that answer goes out and
 * the connection then closes; the unparseable rest gets no answer of its own.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  // Only when that request was read in full: an error inside its own body (bad chunking) is its answer.
  const pending = owed.get(socket);
  if (pending !== undefined && pending.req.complete && !pending.res.writableFinished) {
    pending.res.once('finish', () => socket.end());
    pending.res.once('close', () => socket.destroy());
    return;
  }
  const answer =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new HeraldError('header_too_large')
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new HeraldError('request_timeout')
        : new HeraldError('invalid_request', 'the request is not valid HTTP');
  answerOnRawSocket(socket, answer);
}

/**
 * Writes a JSON error as a complete HTTP answer to a raw socket (a refused upgrade,
 * an unparseable request), with any extra `headers`, then closes it.
 */
export function answerOnRawSocket(socket: Duplex, error: HeraldError, headers: Record<string, string> = {}): void {
  const status = statusOf(error.code);
  const body = JSON.stringify(error.toBody());
  let extra = '';
  for (const [name, value] of Object.entries(headers)) extra += `${name}: ${value}\r\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      extra +
      '\r\n' +
      body,
  );
}
