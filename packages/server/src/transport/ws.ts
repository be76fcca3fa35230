import { closeCodeOf, encodeControl, type ControlMessage, type ErrorMessage } from '@herald/protocol';
import type { WebSocket } from 'ws';
import type { Principal } from '../auth/access.js';
import { TokenBucket } from '../limits/token-bucket.js';
import { encodeTextFrame, rawSocketOf } from '../encoding/ws-frame.js';
import { Connection, type ConnectionContext } from './connection.js';
import { WsSendSink } from './ws-fallback.js';
import { StreamSink, type Framing } from './writer.js';

// Frames as they go straight to the socket: the same bytes `ws.send` would make
// (test/ws-frame.test.ts), control messages included, so that they are corked with
// the events. The heartbeat never changes, so every connection writes one frame.
const SOCKET_FRAMING: Framing = {
  event: (event, count) => event.wsFrame(count),
  control: (message) => encodeTextFrame(Buffer.from(encodeControl(message))),
  heartbeat: encodeTextFrame(Buffer.from(encodeControl({ type: 'heartbeat' }))),
};

// Heartbeat ticks in a row with nothing from the client before it is given up.
// Two, not one: after a stall of this process (GC, a starved core) the timer runs
// before the pongs already waiting in the kernel are read, and one late tick would
// cut every healthy connection at once.
const SILENT_TICKS_LIMIT = 2;

const noop = (): void => undefined;

/**
 * A subscriber on `GET /ws`. Every frame (events, control messages, heartbeats) is
 * written straight to the socket, corked per tick (writer.ts, ws-frame.ts). `ws`
 * writes its pings and pongs to that same socket, so the socket's buffer is what is
 * measured and waited on. Without access to the socket, everything goes through
 * `ws.send` instead (ws-fallback.ts).
 */
export class WsConnection extends Connection {
  readonly transport = 'ws' as const;
  readonly ws: WebSocket;
  /** Set by any frame or pong from the client; cleared by each heartbeat. */
  alive = true;
  /** Heartbeat ticks in a row that found nothing arrived since the tick before. */
  #silentTicks = 0;
  readonly #fallback: WsSendSink | undefined;
  // Completion callback of pings: the fallback's drain signal, or nothing.
  readonly #onPingSent: () => void;
  // Inbound message budget, made on the first message (the rate comes with it).
  #messages: TokenBucket | undefined;

  constructor(context: ConnectionContext, principal: Principal, address: string, ws: WebSocket) {
    const socket = rawSocketOf(ws);
    const sink = socket === undefined ? new WsSendSink(ws) : new StreamSink(socket, SOCKET_FRAMING, context.countEncoding, true);
    super(context, principal, address, sink);
    this.ws = ws;
    this.#fallback = sink instanceof WsSendSink ? sink : undefined;
    this.#onPingSent = this.#fallback?.onSent ?? noop;
    ws.on('close', () => {
      this.#fallback?.releaseDrainWaiter();
      this.released();
    });
    ws.on('pong', () => {
      this.alive = true;
    });
  }

  /** Takes one inbound message from the budget of `rate` per second (burst twice that); false when it is spent. */
  allowMessage(rate: number, now: number): boolean {
    this.#messages ??= new TokenBucket(rate, rate * 2, now);
    return this.#messages.take(now);
  }

  /** Sends one control message while the WebSocket is open (not once a close handshake has begun). */
  override sendControl(message: ControlMessage): void {
    if (this.ws.readyState !== 1) return;
    super.sendControl(message);
  }

  protected beat(idle: boolean, progressed: boolean): void {
    if (this.#fallback !== undefined && this.ws.bufferedAmount === 0) this.#fallback.releaseDrainWaiter();
    // A client that took bytes since the last tick is there, even when its pong is
    // still queued behind the backlog it is reading.
    if (progressed) this.alive = true;
    this.#silentTicks = this.alive ? 0 : this.#silentTicks + 1;
    if (this.#silentTicks >= SILENT_TICKS_LIMIT) {
      // Nothing, not even a pong, for two whole intervals. With bytes waiting the peer
      // has stopped reading (a slow consumer, which may still take the goodbye);
      // without, it is gone without a FIN.
      if (idle) this.ws.terminate();
      else this.dropAsSlow();
      return;
    }
    this.alive = false;
    // A heartbeat message only when nothing is waiting: behind a backlog it tells the
    // client nothing, and it would pile up on one that stopped reading.
    if (idle) this.writeHeartbeat();
    this.ws.ping(undefined, undefined, this.#onPingSent);
  }

  destroy(): void {
    this.ws.terminate();
  }

  protected sayGoodbye(goodbye: ErrorMessage): boolean {
    const ws = this.ws;
    if (ws.readyState !== 1) {
      ws.terminate();
      return false;
    }
    ws.send(encodeControl(goodbye));
    ws.close(closeCodeOf(goodbye.code) ?? 1011, goodbye.code);
    return true;
  }
}
