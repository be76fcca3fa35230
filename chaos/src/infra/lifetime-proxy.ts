import { createServer, Socket, type AddressInfo, type Server } from 'node:net';

/** Options of {@link LifetimeProxy}. */
export interface LifetimeOptions {
  /** Shortest life of a proxied connection, ms. */
  minMs: number;
  /** Longest life, ms; each connection gets a uniform random life in [minMs, maxMs]. */
  maxMs: number;
  random: () => number;
}

/**
 * A loopback TCP proxy that cuts every connection through it (both sides see a
 * reset) after a random lifetime, as a flaky network would. `calm()` stops the
 * cutting so a run can drain. Unlike the tests' CuttableProxy, which cuts on
 * command, this one cuts on its own clock.
 */
export class LifetimeProxy {
  readonly #server: Server;
  readonly #live = new Map<Socket, { upstream: Socket; timer: NodeJS.Timeout | undefined }>();
  #calm = false;
  #refuseUntil = 0;
  cuts = 0;
  outages = 0;
  port = 0;

  private constructor(
    readonly targetPort: () => number,
    readonly options: LifetimeOptions,
  ) {
    this.#server = createServer((client) => this.#accept(client));
  }

  /** Starts listening on an ephemeral loopback port. */
  static async start(targetPort: () => number, options: LifetimeOptions): Promise<LifetimeProxy> {
    const proxy = new LifetimeProxy(targetPort, options);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.#server.address() as AddressInfo).port;
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  #accept(client: Socket): void {
    if (Date.now() < this.#refuseUntil) {
      client.resetAndDestroy();
      return;
    }
    const upstream = new Socket();
    const life = this.options.minMs + this.options.random() * (this.options.maxMs - this.options.minMs);
    const timer = this.#calm ? undefined : setTimeout(() => this.#cut(client), life);
    this.#live.set(client, { upstream, timer });
    const drop = (): void => {
      const entry = this.#live.get(client);
      if (entry?.timer !== undefined) clearTimeout(entry.timer);
      this.#live.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    let port: number;
    try {
      port = this.targetPort();
    } catch {
      // The target is down (a node between kill and restart): refuse, as a dead host would.
      drop();
      return;
    }
    upstream.connect(port, '127.0.0.1', () => {
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  #cut(client: Socket): void {
    const entry = this.#live.get(client);
    if (entry === undefined) return;
    this.#live.delete(client);
    this.cuts += 1;
    client.resetAndDestroy();
    entry.upstream.resetAndDestroy();
  }

  /**
   * An outage: cuts every connection now and refuses new ones for `ms`, so clients
   * stay away long enough for a backlog to build up (a resume then replays it).
   */
  outage(ms: number): void {
    this.outages += 1;
    this.#refuseUntil = Date.now() + ms;
    for (const client of [...this.#live.keys()]) this.#cut(client);
  }

  /** Stops cutting (and ends any outage): connections open now and later live until either side closes. */
  calm(): void {
    this.#calm = true;
    this.#refuseUntil = 0;
    for (const entry of this.#live.values()) {
      if (entry.timer !== undefined) clearTimeout(entry.timer);
      entry.timer = undefined;
    }
  }

  async close(): Promise<void> {
    for (const client of [...this.#live.keys()]) this.#cut(client);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
