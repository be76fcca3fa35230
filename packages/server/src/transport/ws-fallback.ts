import { encodeControl, type ControlMessage } from '@herald/protocol';
import type { WebSocket } from 'ws';
import type { LogEvent } from '../encoding/log-event.js';
import type { FrameSink } from './writer.js';

const HEARTBEAT_JSON = encodeControl({ type: 'heartbeat' });

/**
 * The WebSocket fallback, for a `ws` that does not expose its socket (see
 * ws-frame.ts): every message goes through `ws.send`, the buffer is
 * `ws.bufferedAmount`, and the drain signal is the completion callback of those
 * sends. Nothing here runs on the usual path, where frames go straight to the socket.
 */
export class WsSendSink implements FrameSink {
  readonly #ws: WebSocket;
  // Resolves the replay waiting for `ws.bufferedAmount` to reach 0.
  #drainWaiter: (() => void) | undefined;
  /**
   * Passed to every `ws.send` (and ping), runs once `ws` has handed the message to
   * the kernel. One function per connection, not a closure per message.
   */
  readonly onSent: () => void;

  constructor(ws: WebSocket) {
    this.#ws = ws;
    this.onSent = () => {
      if (this.#ws.bufferedAmount === 0) this.releaseDrainWaiter();
    };
  }

  event(event: LogEvent): void {
    this.#ws.send(event.json, this.onSent);
  }

  control(message: ControlMessage): void {
    this.#ws.send(encodeControl(message), this.onSent);
  }

  heartbeat(): void {
    this.#ws.send(HEARTBEAT_JSON, this.onSent);
  }

  bufferedBytes(): number {
    return this.#ws.bufferedAmount;
  }

  drained(): Promise<void> {
    if (this.#ws.bufferedAmount === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drainWaiter = resolve;
    });
  }

  /**
   * Ends a drain wait: on close, and on each heartbeat tick once the buffer is
   * empty (a message `ws` wrote without our callback, such as an automatic pong,
   * may have been the last one to leave).
   */
  releaseDrainWaiter(): void {
    const waiter = this.#drainWaiter;
    this.#drainWaiter = undefined;
    waiter?.();
  }
}
