import type { Duplex } from 'node:stream';
import { encodeControl, ERRORS, closeCodeOf, type ControlMessage, type ErrorCode } from '@herald/protocol';
import type { WebSocket } from 'ws';
import type { Principal } from '../auth/access.js';
import type { LogEvent } from '../log-event.js';
import { encodeTextFrame, rawSocketOf } from '../ws-frame.js';
import { Connection, type ConnectionContext } from './connection.js';
import { uncorkAtEndOfTick } from './cork.js';

/** Bytes shared by every WebSocket connection, built once per hub. */
export interface WsSharedFrames {
  heartbeat: Buffer;
}

/** Builds the shared WebSocket frames. */
export function wsSharedFrames(): WsSharedFrames {
  return { heartbeat: encodeTextFrame(Buffer.from(encodeControl({ type: 'heartbeat' }))) };
}

const END_GRACE_MS = 1000;



/**
 * A subscriber on `GET /ws`. Event frames are written straight to the socket
 * (see ws-frame.ts); the socket is corked on the first write of a tick and uncorked
 * on the next, so every frame due in one turn of the event loop leaves in one writev.
 */
export class WsConnection extends Connection {
  readonly transport = 'ws' as const;
  readonly ws: WebSocket;
  /** Set by any frame or pong from the client; cleared by each heartbeat. */
  alive = true;
  /** Heartbeat ticks in a row that found nothing arrived since the tick before. */
  #silentTicks = 0;
  readonly #socket: Duplex | undefined;
  readonly #shared: WsSharedFrames;
  #corked = false;
  // Inbound message budget (token bucket in two numbers, no timer).
  #messageTokens = -1;
  #messageAt = 0;

  constructor(id: string, context: ConnectionContext, principal: Principal, address: string, ws: WebSocket, shared: WsSharedFrames) {
    super(id, context, principal, address);
    this.ws = ws;
    this.#socket = rawSocketOf(ws);
    this.#shared = shared;
    ws.on('close', () => this.released());
    ws.on('pong', () => {
      this.alive = true;
    });
  }

  protected writeEvent(event: LogEvent): void {
    const socket = this.#socket;
    if (socket === undefined) {
      this.ws.send(event.json);
      return;
    }
    this.#cork(socket);
    socket.write(event.wsFrame(this.context.countEncoding));
  }

  /** Takes one inbound message from the budget of `rate` per second (burst twice that); false when it is spent. */
  allowMessage(rate: number, now: number): boolean {
    const burst = rate * 2;
    this.#messageTokens = this.#messageTokens < 0 ? burst : Math.min(burst, this.#messageTokens + ((now - this.#messageAt) / 1000) * rate);
    this.#messageAt = now;
    if (this.#messageTokens < 1) return false;
    this.#messageTokens--;
    return true;
  }

  /** @internal Ends the cork started by the first write of a tick. */
  uncork(): void {
    this.#corked = false;
    this.#socket?.uncork();
  }

  #cork(socket: Duplex): void {
    if (this.#corked) return;
    this.#corked = true;
    socket.cork();
    uncorkAtEndOfTick(this);
  }

  bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  protected waitForDrain(): Promise<void> {
    const socket = this.#socket;
    if (socket === undefined || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }

  sendControl(message: ControlMessage): void {
    if (this.closed || this.ws.readyState !== 1) return;
    // Corked like events, so the replies to a chunk of requests (a publisher's
    // window of publishes) leave in one write instead of one syscall each.
    if (this.#socket !== undefined) this.#cork(this.#socket);
    this.ws.send(encodeControl(message));
  }

  heartbeat(): void {
    if (!this.started || this.closed) return;
    // Two silent ticks, not one: after a stall of this process (GC, a starved core)
    // the timer runs before the pongs already waiting in the kernel are read, and one
    // late tick would cut every healthy connection at once.
    this.#silentTicks = this.alive ? 0 : this.#silentTicks + 1;
    if (this.#silentTicks >= 2) {
      // Nothing, not even a pong, for two whole intervals: the peer is gone without a FIN.
      this.ws.terminate();
      return;
    }
    this.alive = false;
    const socket = this.#socket;
    if (socket === undefined) this.ws.send(encodeControl({ type: 'heartbeat' }));
    else {
      this.#cork(socket);
      socket.write(this.#shared.heartbeat);
    }
    this.ws.ping();
  }

  destroy(): void {
    this.ws.terminate();
  }

  protected end(code: ErrorCode, retryAfter?: number): void {
    const ws = this.ws;
    if (ws.readyState !== 1) {
      ws.terminate();
      return;
    }
    const error: ControlMessage =
      retryAfter === undefined
        ? { type: 'error', code, message: ERRORS[code].message }
        : { type: 'error', code, message: ERRORS[code].message, retryAfter };
    ws.send(encodeControl(error));
    ws.close(closeCodeOf(code) ?? 1011, code);
    setTimeout(() => ws.terminate(), END_GRACE_MS).unref();
  }
}
