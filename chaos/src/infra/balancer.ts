import { createServer, Socket, type AddressInfo, type Server } from 'node:net';

/**
 * A round-robin loopback TCP balancer in front of hub nodes whose ports change as
 * they are killed and restarted. A connection to a backend that refuses is tried on
 * the next one (each backend once), so a dead node costs a client one retry, not a
 * refusal; when every backend refuses, the client's connection is reset.
 */
export class RoundRobinBalancer {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #next = 0;
  port = 0;

  private constructor(readonly backends: () => number[]) {
    this.#server = createServer((client) => this.#accept(client));
  }

  static async start(backends: () => number[]): Promise<RoundRobinBalancer> {
    const balancer = new RoundRobinBalancer(backends);
    await new Promise<void>((resolve) => balancer.#server.listen(0, '127.0.0.1', resolve));
    balancer.port = (balancer.#server.address() as AddressInfo).port;
    return balancer;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  #accept(client: Socket): void {
    client.pause();
    this.#sockets.add(client);
    client.on('close', () => this.#sockets.delete(client)).on('error', () => client.destroy());
    const ports = this.backends();
    const start = this.#next++;
    const attempt = (tried: number): void => {
      if (client.destroyed) return;
      if (tried >= ports.length) {
        client.resetAndDestroy();
        return;
      }
      const upstream = new Socket();
      upstream.once('error', () => {
        upstream.destroy();
        attempt(tried + 1);
      });
      upstream.connect(ports[(start + tried) % ports.length]!, '127.0.0.1', () => {
        upstream.removeAllListeners('error');
        this.#sockets.add(upstream);
        const drop = (): void => {
          client.destroy();
          upstream.destroy();
        };
        upstream.on('error', drop).on('close', drop);
        client.on('close', drop);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    attempt(0);
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
