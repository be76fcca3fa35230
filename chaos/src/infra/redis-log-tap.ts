import { Redis } from 'ioredis';

type Entry = [string, string[]];

/**
 * Reads the hub's Redis stream (`<prefix>log`) as it grows and numbers its entries,
 * giving the accounting the log's true order (key to position) for the order
 * check. It polls, so entries trimmed between two polls are never seen (they are
 * then checked by the time rule only). When the epoch in `<prefix>meta` changes
 * (Redis lost its data), it starts again from the beginning of the new stream,
 * with positions after every earlier one.
 */
export class RedisLogTap {
  readonly order = new Map<string, number>();
  readonly #redis: Redis;
  #cursor = '0-0';
  #epoch: string | null = null;
  #next = 0;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;

  constructor(
    url: string,
    readonly prefix: string,
    readonly everyMs = 300,
  ) {
    this.#redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => 200 });
    this.#redis.on('error', () => undefined);
  }

  start(): this {
    this.#timer = setInterval(() => void this.poll(), this.everyMs);
    return this;
  }

  /** Reads every entry after the last one seen (also called once more at the end). */
  async poll(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const epoch = await this.#redis.hget(`${this.prefix}meta`, 'epoch');
      if (epoch !== this.#epoch) {
        this.#epoch = epoch;
        this.#cursor = '0-0';
      }
      for (;;) {
        const entries = (await this.#redis.xrange(`${this.prefix}log`, `(${this.#cursor}`, '+', 'COUNT', 1000)) as Entry[];
        for (const [id, fields] of entries) {
          this.#cursor = id;
          const key = keyOf(fields);
          if (key !== undefined && !this.order.has(key)) this.order.set(key, this.#next++);
        }
        if (entries.length < 1000) break;
      }
    } catch {
      // Redis is down or paused: the next poll catches up.
    } finally {
      this.#busy = false;
    }
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.poll();
    this.#redis.disconnect();
  }
}

function keyOf(fields: string[]): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] !== 'd') continue;
    try {
      const data = JSON.parse(fields[i + 1]!) as { k?: unknown } | null;
      return typeof data === 'object' && data !== null && typeof data.k === 'string' ? data.k : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
