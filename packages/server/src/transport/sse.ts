import type { ServerResponse } from 'node:http';
import { encodeControl, sseControlFrame, ssePositionFrame, sseRetryField, type ControlMessage, type ErrorMessage } from '@herald/protocol';
import type { Principal } from '../auth/access.js';
import { Connection, type ConnectionContext } from './connection.js';
import { StreamSink, type Framing } from './writer.js';

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

// The heartbeat never changes, so every connection writes these same bytes.
const HEARTBEAT = Buffer.from(sseControlFrame(encodeControl({ type: 'heartbeat' })));

// SSE frames as `res.write` takes them (it adds the chunk framing itself).
const RESPONSE_FRAMING: Framing = {
  event: (event, count) => event.sseFrame(count),
  control: (message, position) => Buffer.from(ssePositionFrame(position, encodeControl(message))),
  heartbeat: HEARTBEAT,
};

// The same frames as ready-made HTTP/1.1 chunks, for writes straight to the socket.
const SOCKET_FRAMING: Framing = {
  event: (event, count) => event.sseChunk(count),
  control: (message, position) => httpChunk(RESPONSE_FRAMING.control(message, position)),
  heartbeat: httpChunk(HEARTBEAT),
};

/**
 * A subscriber on `GET /events`. Until `connected` is written (and for the rare
 * response that is not chunked HTTP/1.1 on its own socket) every write goes
 * through `res.write`. After, every write (events, control messages, heartbeats)
 * goes straight to the socket as a ready-made HTTP chunk, corked until the end of
 * the tick so the frames due in one turn leave in one syscall. Either way the
 * buffer that is measured and waited on is the one written to: `res` or the
 * socket, never a mix (writer.ts).
 */
export class SseConnection extends Connection {
  readonly transport = 'sse' as const;
  readonly #res: ServerResponse;
  readonly #retryMs: number;

  /** `retryMs` is the `retry:` field that opens the stream: how long EventSource waits before it reconnects. */
  constructor(context: ConnectionContext, principal: Principal, address: string, res: ServerResponse, retryMs: number) {
    super(context, principal, address, new StreamSink(res, RESPONSE_FRAMING, context.countEncoding, false));
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
    // it directly follow them (see LogEvent.sseChunk). Only chunked responses:
    // HTTP/1.0 has no chunk framing.
    const socket = this.#res.socket;
    if (this.#res.chunkedEncoding && socket !== null) this.writeThrough(new StreamSink(socket, SOCKET_FRAMING, this.context.countEncoding, true));
  }

  /** SSE has no liveness check of its own (a dead peer shows as a backlog, see Connection.heartbeat). */
  protected beat(idle: boolean): void {
    if (idle) this.writeHeartbeat();
  }

  destroy(): void {
    this.#res.destroy();
  }

  protected sayGoodbye(goodbye: ErrorMessage): boolean {
    const res = this.#res;
    if (res.destroyed) return false;
    // A `retry:` field makes EventSource wait this long before it reconnects, which spreads reconnects out.
    const retry = goodbye.retryAfter === undefined ? '' : sseRetryField(goodbye.retryAfter);
    res.end(retry + sseControlFrame(encodeControl(goodbye)));
    return true;
  }
}
