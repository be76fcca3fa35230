import type { Duplex } from 'node:stream';
import { encodeControl, ERRORS, closeCodeOf, type ControlMessage, type ErrorCode } from '@herald/protocol';
import type { WebSocket } from 'ws';
import type { Principal } from '../auth/access.js';
import type { LogEvent } from '../encoding/log-event.js';
import { encodeTextFrame, rawSocketOf } from '../encoding/ws-frame.js';
import { Connection, type ConnectionContext } from './connection.js';
import { uncorkAtEndOfTick } from './cork.js';
import { drained } from './drain.js';

// The heartbeat never changes, so every connection writes this same frame.
const HEARTBEAT_FRAME = encodeTextFrame(Buffer.from(encodeControl({ type: 'heartbeat' })));

const END_GRACE_MS = 1000;

const noop = (): void => undefined;

/**
 * A subscriber on `GET /ws`. Event frames are written straight to the socket
 * (see ws-frame.ts); the socket is corked on the first write of a tick and uncorked
 * on the next, so every frame due in one turn of the event loop leaves in one writev.
 * `ws` writes control messages and pings to that same socket, so the socket's
 * buffer is what is measured and waited on. Without access to the socket (the
 * fallback), everything goes through `ws.send`, the buffer is `ws.bufferedAmount`
 * and the drain signal is the completion callback of those sends.
 */
export class WsConnection extends Connection {
  readonly transport = 'ws' as const;
  readonly ws: WebSocket;
  /** Set by any frame or pong from the client; cleared by each heartbeat. */
  alive = true;
  /** Heartbeat ticks in a row that found nothing arrived since the tick before. */
  #silentTicks = 0;
  readonly #socket: Duplex | undefined;
  #corked = false;
  // Fallback only: resolves the replay waiting for `ws.bufferedAmount` to reach 0.
  #drainWaiter: (() => void) | undefined;
  // Fallback only: passed to every `ws.send`, runs once `ws` has handed the message
  // to the kernel. One function per connection (none on the socket path), not a
  // closure per message.
  readonly #onSent: () => void;
  // Inbound message budget (token bucket in two numbers, no timer).
  #messageTokens = -1;
  #messageAt = 0;

  constructor(context: ConnectionContext, principal: Principal, address: string, ws: WebSocket) {
    super(context, principal, address);
    this.ws = ws;
    this.#socket = rawSocketOf(ws);
    this.#onSent =
      this.#socket === undefined
        ? () => {
            if (this.ws.bufferedAmount === 0) this.#releaseDrainWaiter();
          }
        : noop;
    ws.on('close', () => {
      this.#releaseDrainWaiter();
      this.released();
    });
    ws.on('pong', () => {
      this.alive = true;
    });
  }

  protected writeEvent(event: LogEvent): void {
    const socket = this.#socket;
    if (socket === undefined) {
      this.ws.send(event.json, this.#onSent);
      return;
    }
    this.#cork(socket);
    socket.write(event.wsFrame(this.context.countEncoding));
  }

  #releaseDrainWaiter(): void {
    const waiter = this.#drainWaiter;
    this.#drainWaiter = undefined;
    waiter?.();
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
    const socket = this.#socket;
    return socket === undefined ? this.ws.bufferedAmount : socket.writableLength;
  }

  protected waitForDrain(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const socket = this.#socket;
    if (socket !== undefined) return drained(socket);
    if (this.ws.bufferedAmount === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drainWaiter = resolve;
    });
  }

  sendControl(message: ControlMessage): void {
    if (this.closed || this.ws.readyState !== 1) return;
    // Corked like events, so the replies to a chunk of requests (a publisher's
    // window of publishes) leave in one write instead of one syscall each.
    if (this.#socket !== undefined) {
      this.#cork(this.#socket);
      this.ws.send(encodeControl(message));
    } else this.ws.send(encodeControl(message), this.#onSent);
  }

  protected beat(idle: boolean, progressed: boolean): void {
    // Fallback: a message `ws` wrote without our callback (an automatic pong) may have
    // been the last one to leave, so look again once per tick.
    if (this.#socket === undefined && this.ws.bufferedAmount === 0) this.#releaseDrainWaiter();
    // A client that took bytes since the last tick is there, even when its pong is
    // still queued behind the backlog it is reading.
    if (progressed) this.alive = true;
    // Two silent ticks, not one: after a stall of this process (GC, a starved core)
    // the timer runs before the pongs already waiting in the kernel are read, and one
    // late tick would cut every healthy connection at once.
    this.#silentTicks = this.alive ? 0 : this.#silentTicks + 1;
    if (this.#silentTicks >= 2) {
      // Nothing, not even a pong, for two whole intervals. With bytes waiting the peer
      // has stopped reading (a slow consumer, which may still take the goodbye);
      // without, it is gone without a FIN.
      if (idle) this.ws.terminate();
      else this.dropAsSlow();
      return;
    }
    this.alive = false;
    const socket = this.#socket;
    // A heartbeat message only when nothing is waiting: behind a backlog it tells the
    // client nothing, and it would pile up on one that stopped reading.
    if (idle) {
      if (socket === undefined) this.ws.send(encodeControl({ type: 'heartbeat' }), this.#onSent);
      else {
        this.#cork(socket);
        socket.write(HEARTBEAT_FRAME);
      }
    }
    this.ws.ping(undefined, undefined, this.#onSent);
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
