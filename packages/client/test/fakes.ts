/**
 * Test doubles for the state-machine tests: a fake clock and fake transports. They
 * exist because a real hub cannot be told to be silent for exactly 2.25 heartbeats,
 * or to fail five attempts in a row at chosen moments; everything that a real hub
 * can do is tested against a real hub in the integration tests.
 */
import type { Clock, TransportEnd, TransportFactory, TransportHandlers, TransportRequest } from '../src/index.js';

interface Timer {
  id: number;
  at: number;
  delay: number;
  callback: () => void;
}

/** A clock whose time moves only when the test says so. */
export class FakeClock implements Clock {
  #now = 1_000_000;
  #nextId = 1;
  readonly #timers = new Map<number, Timer>();

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { id: this.#nextId++, at: this.#now + ms, delay: ms, callback };
    this.#timers.set(timer.id, timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Delays of the timers still pending, in the order they were set. */
  get pending(): number[] {
    return [...this.#timers.values()].map((t) => t.delay);
  }

  /** Moves time forward, running every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const next = [...this.#timers.values()].filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (next === undefined) break;
      this.#timers.delete(next.id);
      this.#now = next.at;
      next.callback();
    }
    this.#now = end;
  }
}

/** One connection attempt made through a fake transport. */
export class FakeConnection {
  readonly sent: Array<Record<string, unknown>> = [];
  closed = false;

  constructor(
    readonly kind: 'websocket' | 'sse',
    readonly request: TransportRequest,
    readonly handlers: TransportHandlers,
  ) {}

  /** The hub's first message; without `lastEventId` it is what a hub that names no position sends. */
  connected(heartbeat = 1000, lastEventId?: string, resumed = false): void {
    const message: Record<string, unknown> = { type: 'connected', connectionId: 'c', heartbeat, resumed };
    if (lastEventId !== undefined) message['lastEventId'] = lastEventId;
    this.handlers.onMessage(message);
  }

  message(message: Record<string, unknown>): void {
    this.handlers.onMessage(message);
  }

  event(id: string, topic = 'news', data: unknown = null): void {
    this.handlers.onMessage({ id, topic, type: 'message', data, timestamp: '2026-01-01T00:00:00.000Z' });
  }

  end(end: Partial<TransportEnd> = {}): void {
    this.handlers.onEnd({ opened: true, reason: 'test', ...end });
  }

  /** Answers every subscribe request so far with `subscribed`. */
  acknowledge(): void {
    for (const message of this.sent) {
      if (message['type'] === 'subscribe') this.message({ type: 'subscribed', topics: message['topics'], ref: message['ref'] });
    }
  }
}

/** Fake WebSocket and SSE transports that record every attempt. */
export class FakeTransports {
  readonly attempts: FakeConnection[] = [];

  factory(kind: 'websocket' | 'sse'): TransportFactory {
    return (request, handlers) => {
      const connection = new FakeConnection(kind, request, handlers);
      this.attempts.push(connection);
      return {
        // As the hub would read it: JSON, without undefined fields.
        send: (message) => void connection.sent.push(JSON.parse(JSON.stringify(message)) as Record<string, unknown>),
        close: () => {
          connection.closed = true;
        },
      };
    };
  }

  get last(): FakeConnection {
    const last = this.attempts[this.attempts.length - 1];
    if (last === undefined) throw new Error('no connection attempt yet');
    return last;
  }

  get both(): { websocket: TransportFactory; sse: TransportFactory } {
    return { websocket: this.factory('websocket'), sse: this.factory('sse') };
  }
}

/** Lets queued microtasks (subscription sync, getToken) run. */
export const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
