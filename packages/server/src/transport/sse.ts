import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { encodeControl, ERRORS, sseControlFrame, ssePositionFrame, sseRetryField, type ControlMessage, type ErrorCode } from '@herald/protocol';
import type { Principal } from '../auth/access.js';
import type { LogEvent } from '../log-event.js';
import { Connection, type ConnectionContext } from './connection.js';
import { uncorkAtEndOfTick } from './cork.js';

/** Response headers of every SSE stream. */
export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache',
  'X-Accel-Buffering': 'no',
  Connection: 'keep-alive',
} as const;

/** Bytes shared by every SSE connection, built once per hub. */
export interface SseSharedFrames {
  heartbeat: Buffer;
}

/** Builds the shared SSE frames. */
export function sseSharedFrames(): SseSharedFrames {
  return { heartbeat: Buffer.from(sseControlFrame(encodeControl({ type: 'heartbeat' }))) };
}

// A client that stopped reading gets this long to take the goodbye frame before the socket is destroyed.
const END_GRACE_MS = 1000;

/** A subscriber on `GET /events`. Writes go through `res.write`, which Node corks until the next tick, so events due in one turn leave in one syscall. */
export class SseConnection extends Connection {
  readonly transport = 'sse' as const;
  readonly #res: ServerResponse;
  readonly #shared: SseSharedFrames;
  // Set once the headers are out on a chunked HTTP/1.1 response: event chunks then
  // go straight to the socket (see LogEvent.sseChunk). Otherwise res.write does.
  #socket: Socket | undefined;
  #corked = false;

  constructor(id: string, context: ConnectionContext, principal: Principal, address: string, res: ServerResponse, shared: SseSharedFrames) {
    super(id, context, principal, address);
    this.#res = res;
    this.#shared = shared;
    res.on('close', () => this.released());
  }

  /**
   * Writes the `retry:` field and the `connected` message that open every stream,
   * with `position` as the frame's `id:` so EventSource can resume from it before
   * any event (none when `reset`s follow: the last of them carries it).
   */
  open(retryMs: number, connected: ControlMessage, position: string | undefined): void {
    this.#res.write(sseRetryField(retryMs) + ssePositionFrame(position, encodeControl(connected)));
    this.started = true;
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
    if (!this.#corked) {
      this.#corked = true;
      socket.cork();
      uncorkAtEndOfTick(this);
    }
    socket.write(event.sseChunk(this.context.countEncoding));
  }

  /** @internal Ends the cork started by the first write of a tick. */
  uncork(): void {
    this.#corked = false;
    this.#socket?.uncork();
  }

  bufferedBytes(): number {
    return this.#res.writableLength;
  }

  protected waitForDrain(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      const done = (): void => {
        this.#res.off('drain', done);
        this.#res.off('close', done);
        resolve();
      };
      this.#res.on('drain', done);
      this.#res.on('close', done);
    });
  }

  sendControl(message: ControlMessage, position?: string): void {
    if (!this.closed) this.#res.write(ssePositionFrame(position, encodeControl(message)));
  }

  heartbeat(): void {
    if (this.started && !this.closed) this.#res.write(this.#shared.heartbeat);
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
