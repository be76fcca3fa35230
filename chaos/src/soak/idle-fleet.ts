import { request, type ClientRequest } from 'node:http';
import WebSocket from 'ws';

type Idle = { kind: 'sse'; req: ClientRequest } | { kind: 'ws'; ws: WebSocket };

/**
 * Idle subscribers: connections on topics nobody publishes to, half SSE and half
 * WebSocket, that only receive heartbeats. `churn(n)` closes n of them (half
 * abruptly, half cleanly) and opens n new ones, as page loads and closed tabs do.
 */
export class IdleFleet {
  readonly #open = new Set<Idle>();
  opened = 0;
  failed = 0;
  #serial = 0;

  constructor(
    readonly url: string,
    readonly topics: number,
    readonly random: () => number,
  ) {}

  get size(): number {
    return this.#open.size;
  }

  /** Opens `count` connections, `perBatch` at a time, waiting for each batch to connect. */
  async open(count: number, perBatch = 100): Promise<void> {
    for (let done = 0; done < count; done += perBatch) {
      await Promise.all(Array.from({ length: Math.min(perBatch, count - done) }, () => this.#openOne()));
    }
  }

  #openOne(): Promise<void> {
    const serial = this.#serial++;
    const topic = encodeURIComponent(`soak/idle/${serial % this.topics}`);
    return new Promise<void>((resolve) => {
      if (serial % 2 === 0) {
        const req = request(`${this.url}/events?topic=${topic}`, { agent: false }, (res) => {
          res.resume();
          this.opened += 1;
          resolve();
        });
        const entry: Idle = { kind: 'sse', req };
        req.on('error', () => {
          this.#open.delete(entry);
          this.failed += 1;
          resolve();
        });
        req.on('close', () => this.#open.delete(entry));
        req.end();
        this.#open.add(entry);
      } else {
        const ws = new WebSocket(`${this.url.replace(/^http/, 'ws')}/ws?topic=${topic}`);
        const entry: Idle = { kind: 'ws', ws };
        ws.once('open', () => {
          this.opened += 1;
          resolve();
        });
        ws.on('error', () => {
          this.#open.delete(entry);
          this.failed += 1;
          resolve();
        });
        ws.on('close', () => this.#open.delete(entry));
        this.#open.add(entry);
      }
    });
  }

  /** Closes `count` random connections and opens as many new ones. */
  async churn(count: number): Promise<void> {
    const all = [...this.#open];
    for (let i = 0; i < count && all.length > 0; i++) {
      const [entry] = all.splice(Math.floor(this.random() * all.length), 1);
      if (entry === undefined) continue;
      this.#open.delete(entry);
      const abrupt = this.random() < 0.5;
      if (entry.kind === 'sse') {
        if (abrupt) entry.req.socket?.resetAndDestroy();
        else entry.req.destroy();
      } else if (abrupt) entry.ws.terminate();
      else entry.ws.close(1000);
    }
    await this.open(count, count);
  }

  close(): void {
    for (const entry of this.#open) {
      if (entry.kind === 'sse') entry.req.destroy();
      else entry.ws.terminate();
    }
    this.#open.clear();
  }
}
