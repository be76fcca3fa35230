import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { encodeControl, ERRORS, sseControlFrame, ssePositionFrame, sseRetryField, type ControlMessage, type ErrorCode } from '@herald/protocol';
import type { Principal } from '../auth/access.js';
import type { LogEvent } from '../encoding/log-event.js';
import { Connection, type ConnectionContext } from './connection.js';
import { uncorkAtEndOfTick } from './cork.js';
import { drained } from './drain.js';

/** Response headers of every SSE stream. */
export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache',
  'X-Accel-Buffering': 'no',
  Connection: 'keep-alive',
} as const;

/** `frame` as one HTTP/1.1 chunk: size line, bytes, CRLF (RFC 9112 section 7.1). */
function httpChunk(frame: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${frame.length.toString(16)}\r\n`), frame, Buffer.from('\r\n')]);
}

// The heartbeat never changes, so every connection writes these same bytes: for
// `res.write`, and as one HTTP/1.1 chunk for writes straight to the socket.
const HEARTBEAT = Buffer.from(sseControlFrame(encodeControl({ type: 'heartbeat' })));
const HEARTBEAT_CHUNK = httpChunk(HEARTBEAT);

// A client that stopped reading gets this long to take the goodbye frame before the socket is destroyed.
const END_GRACE_MS = 1000;

/**
 * A subscriber on `GET /events`. Until `open` (and for the rare response that is
 * not chunked HTTP/1.1 on its own socket) every write goes through `res.write`.
 * After `open`, every write (events, control messages, heartbeats) goes straight to
 * the socket as a ready-made HTTP chunk, corked until the end of the tick so the
 * frames due in one turn leave in one syscall. Either way the buffer that is
 * measured and waited on is the one written to: `res` or the socket, never a mix.
 */
export class SseConnection extends Connection {
  readonly transport = 'sse' as const;
  readonly #res: ServerResponse;
  readonly #retryMs: number;
  // Set once the headers are out on a chunked HTTP/1.1 response: from then on
  // everything goes straight to the socket (see LogEvent.sseChunk).
  #socket: Socket | undefined;
  #corked = false;

  /** `retryMs` is the `retry:` field that opens the stream: how long EventSource waits before it reconnects. */
  constructor(context: ConnectionContext, principal: Principal, address: string, res: ServerResponse, retryMs: number) {
    super(context, principal, address);
    this.#res = res;
    this.#retryMs = retryMs;
    res.on('close', () => this.released());
  }

  /**
   * Writes the `retry:` field and the `connected` message that open every stream,
   * with `position` as the frame's `id:` so EventSource can resume from it before
   * any event (none when `reset`s follow: the last of them carries it).
   */
  protected override writeConnected(connected: ControlMessage, position: string | undefined): void {
    this.#res.write(sseRetryField(this.#retryMs) + ssePositionFrame(position, encodeControl(connected)));
    // The headers and first chunk are now queued on the socket, so chunks written to
    // it directly follow them. Only chunked responses: HTTP/1.0 has no chunk framing.
    const socket = this.#res.socket;
    if (this.#res.chunkedEncoding && socket !== null) this.#socket = socket;
  }

  protected writeEvent(event: LogEvent): void {
    const socket = this.#socket;
    if (socket === undefined) {
      this.#res.write(event.sseFrame(this.context.countEncoding));
      return;
    }
    this.#cork(socket);
    socket.write(event.sseChunk(this.context.countEncoding));
  }

  #cork(socket: Socket): void {
    if (this.#corked) return;
    this.#corked = true;
    socket.cork();
    uncorkAtEndOfTick(this);
  }

  /** @internal Ends the cork started by the first write of a tick. */
  uncork(): void {
    this.#corked = false;
    this.#socket?.uncork();
  }

  bufferedBytes(): number {
    return (this.#socket ?? this.#res).writableLength;
  }

  protected waitForDrain(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return drained(this.#socket ?? this.#res);
  }

  sendControl(message: ControlMessage, position?: string): void {
    if (this.closed) return;
    const frame = Buffer.from(ssePositionFrame(position, encodeControl(message)));
    const socket = this.#socket;
    if (socket === undefined) {
      this.#res.write(frame);
      return;
    }
    this.#cork(socket);
    socket.write(httpChunk(frame));
  }

  /** SSE has no liveness check of its own (a dead peer shows as a backlog, see Connection.heartbeat). */
  protected beat(idle: boolean): void {
    if (!idle) return;
    const socket = this.#socket;
    if (socket === undefined) {
      this.#res.write(HEARTBEAT);
      return;
    }
    this.#cork(socket);
    socket.write(HEARTBEAT_CHUNK);
  }

  destroy(): void {
    this.#res.destroy();
  }

  protected end(code: ErrorCode, retryAfter?: number): void {
    const res = this.#res;
    if (res.destroyed) return;
    const error: ControlMessage =
      retryAfter === undefined
        ? { type: 'error', code, message: ERRORS[code].message }
        : { type: 'error', code, message: ERRORS[code].message, retryAfter };
    // A `retry:` field makes EventSource wait this long before it reconnects, which spreads reconnects out.
    const retry = retryAfter === undefined ? '' : sseRetryField(retryAfter);
    res.end(retry + sseControlFrame(encodeControl(error)));
    setTimeout(() => res.destroy(), END_GRACE_MS).unref();
  }
}
