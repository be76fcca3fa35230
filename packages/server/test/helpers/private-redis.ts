import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitUntil } from './hub.js';

/**
 * Why tests that pause, kill or restart Redis cannot run: no `redis-server`
 * binary. They skip loudly, unless HERALD_REQUIRE_REDIS=1, which makes them fail.
 * They never touch the shared Redis (6379): each starts its own server.
 */
export function privateRedisSkipReason(): string | false {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.status === 0) return false;
  const message = 'no redis-server binary to start a private Redis';
  if (process.env['HERALD_REQUIRE_REDIS'] === '1') throw new Error(`${message}, and HERALD_REQUIRE_REDIS=1`);
  process.stderr.write(`\n*** SKIPPING private-Redis tests: ${message}. Install redis-server. ***\n\n`);
  return message;
}

/**
 * A `redis-server` of the test's own on a fixed port (tests use 6394-6399), with
 * no persistence unless `persistent` (then AOF in a temporary directory, so data
 * survives `restart()`).
 */
export class PrivateRedis {
  readonly port: number;
  readonly url: string;
  readonly #dir: string;
  readonly #persistent: boolean;
  #child: ChildProcess | undefined;
  #admin: Redis | undefined;

  private constructor(port: number, persistent: boolean) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this.#persistent = persistent;
    this.#dir = mkdtempSync(join(tmpdir(), 'herald-redis-'));
  }

  /** Starts a server on `port` and resolves once it answers PING. */
  static async start(port: number, persistent = false): Promise<PrivateRedis> {
    const redis = new PrivateRedis(port, persistent);
    await redis.#spawn();
    return redis;
  }

  /** A connection for the test's own commands (CLIENT PAUSE, XLEN, ...). */
  get admin(): Redis {
    this.#admin ??= new Redis(this.url, { maxRetriesPerRequest: 1, retryStrategy: () => 200 });
    this.#admin.on('error', () => undefined);
    return this.#admin;
  }

  /** Kills the server with SIGKILL and waits until it is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }

  /** Kills and starts the server again on the same port (empty unless persistent). */
  async restart(): Promise<void> {
    await this.kill();
    await this.#spawn();
  }

  /** Stops the server and removes its directory. */
  async stop(): Promise<void> {
    this.#admin?.disconnect();
    await this.kill();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  async #spawn(): Promise<void> {
    const persistence = this.#persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--dir', this.#dir, ...persistence];
    this.#child = spawn('redis-server', args, { stdio: 'ignore' });
    const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
    probe.on('error', () => undefined);
    try {
      await waitUntil(async () => {
        try {
          if (probe.status !== 'ready') await probe.connect();
          return (await probe.ping()) === 'PONG';
        } catch {
          probe.disconnect();
          return false;
        }
      }, `redis-server on port ${this.port} to answer`);
    } finally {
      probe.disconnect();
    }
  }
}
