import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RESULTS_DIR } from '../report.js';

/** The private redis-server ports the harness may use (never the shared 6379). */
const PRIVATE_REDIS_PORTS = { first: 6410, last: 6429 } as const;

/**
 * A private `redis-server` on one of the ports 6410-6429, with its files in
 * chaos/results/tmp. `kill()` is SIGKILL; `start()` again reopens the same
 * files, so with `appendonly` on the data survives and with it off (and no RDB
 * snapshots) it is gone.
 */
export class PrivateRedis {
  #child: ChildProcess | undefined;
  readonly dir: string;

  constructor(
    readonly port: number,
    readonly appendonly: boolean,
  ) {
    if (port < PRIVATE_REDIS_PORTS.first || port > PRIVATE_REDIS_PORTS.last) throw new Error(`port ${port} is outside the harness's range 6410-6429`);
    this.dir = join(RESULTS_DIR, 'tmp', `redis-${port}`);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /**
   * Starts a private server on the first free port of the range, so a test run and
   * a chaos run (or two experiments) never share one.
   */
  static async startFree(appendonly: boolean): Promise<PrivateRedis> {
    for (let port = PRIVATE_REDIS_PORTS.first; port <= PRIVATE_REDIS_PORTS.last; port++) {
      if (!(await portFree(port))) continue;
      const redis = new PrivateRedis(port, appendonly);
      // Files of an earlier run on this port would be loaded as "the data".
      rmSync(redis.dir, { recursive: true, force: true });
      try {
        await redis.start();
        return redis;
      } catch {
        await redis.kill();
      }
    }
    throw new Error('no free port for a private redis-server in 6410-6429');
  }

  /** Starts redis-server and waits until it answers PING. */
  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      this.appendonly ? 'yes' : 'no',
      '--appendfsync',
      'always',
      '--protected-mode',
      'yes',
      '--daemonize',
      'no',
    ];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.#child = child;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server on ${this.port} exited at start (port taken?)`);
      if (await this.#answers(child.pid)) return;
      if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not answer within 10 s`);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 50))]);
    }
  }

  // True when the server on the port is this child (not another one that holds the port).
  async #answers(pid: number | undefined): Promise<boolean> {
    const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      const info = await probe.info('server');
      return info.includes(`process_id:${pid}\r`);
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  }

  /** SIGKILLs the server (no shutdown save) and waits for it to exit. */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  /** Runs one command on a short-lived connection (for CLIENT PAUSE and reading the stream). */
  async command(...args: Array<string | number>): Promise<unknown> {
    const client = new Redis(this.url, { maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    try {
      return await client.call(String(args[0]), ...args.slice(1).map(String));
    } finally {
      client.disconnect();
    }
  }

  /** Kills the server and removes its files. */
  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
