import { randomBytes } from 'node:crypto';
import { HeraldError, type Envelope } from '@herald/protocol';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { LogEvent } from '../log-event.js';
import { assertPublisherIds, type AppendResult, type Broker, type EventDraft, type ReadResult, type TailListener } from './broker.js';
import type { Lease, LeaseOptions } from './broker.js';
import { assertLeaseName } from './local-leases.js';
import { RedisLease } from './redis-lease.js';
import { APPEND_SCRIPT, READ_SCRIPT, TRIM_SCRIPT } from './redis-scripts.js';

/** Settings of the Redis log. */
export interface RedisBrokerOptions {
  /** Redis URL, such as `redis://127.0.0.1:6379/0`. */
  url: string;
  /** Prefix of every key the broker uses. Default `herald:`. */
  prefix?: string;
  /** Most events kept for resume. Default 10,000. */
  maxEvents?: number;
  /** Oldest event kept for resume, in milliseconds. Default one hour. */
  maxAgeMs?: number;
  /** How long one blocking read of the stream waits, in milliseconds. Default 5,000. */
  blockMs?: number;
  /** How long a command may take before publish answers 503, in milliseconds. Default 2,000. */
  commandTimeoutMs?: number;
  /** How long start() waits for Redis before failing, in milliseconds. Default 10,000. */
  connectTimeoutMs?: number;
  /** Logger for connection trouble; default none. */
  logger?: Logger;
}

interface HeraldRedis extends Redis {
  heraldAppend(stream: string, meta: string, ...args: string[]): Promise<Array<string | number>>;
  heraldTrim(stream: string, meta: string, maxlen: string, cutoff: string): Promise<number>;
  heraldRead(stream: string, meta: string, ...args: string[]): Promise<[string, string?, Array<[string, string[]]>?]>;
}

type StreamEntry = [id: string, fields: string[]];

const GENERATED_ID = /^([0-9a-f]{10})-(\d+-\d+)$/;
const TRIM_INTERVAL_MS = 1000;
const TAIL_BATCH = 1000;

/** True when stream id a sorts before b. */
function streamIdBefore(a: string, b: string): boolean {
  const [ams, aseq] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bms, bseq] = b.split('-').map(BigInt) as [bigint, bigint];
  return ams < bms || (ams === bms && aseq < bseq);
}

/** Stream ids `ms-seq` as fixed-width strings, so they compare like LogEvent positions. */
function positionOf(streamId: string): string {
  const dash = streamId.indexOf('-');
  return `${streamId.slice(0, dash).padStart(15, '0')}-${streamId.slice(dash + 1).padStart(10, '0')}`;
}

function streamIdOf(position: string): string {
  const dash = position.indexOf('-');
  return `${BigInt(position.slice(0, dash))}-${BigInt(position.slice(dash + 1))}`;
}

/**
 * The log as a Redis Stream shared by every hub node. Appends are one Lua script
 * (dedupe, XADD, trim); every node tails the stream with a blocking XREAD from the
 * last id it has seen, so a node that loses Redis catches up from where it was.
 * Ids are `<epoch>-<stream id>`, the same on every node; the epoch lives in Redis,
 * so a wiped Redis gives a new epoch and old ids get `reset`.
 */
export class RedisBroker implements Broker {
  readonly name = 'redis';
  readonly #options: Required<Omit<RedisBrokerOptions, 'logger'>>;
  readonly #log: Logger | undefined;
  readonly #keys: { stream: string; meta: string; pids: string };
  #client: HeraldRedis | undefined;
  #reader: Redis | undefined;
  #listener: TailListener | undefined;
  #lastId = '0-0';
  // The epoch of the log this node tails (see #noteEpoch): positionId() pairs it with #lastId.
  #epoch = '';
  #closed = false;
  #trimTimer: NodeJS.Timeout | undefined;
  #tailing: Promise<void> | undefined;
  #tailFailures = 0;
  readonly #leases = new Set<RedisLease>();

  constructor(options: RedisBrokerOptions) {
    if (typeof options?.url !== 'string' || !/^rediss?:\/\//.test(options.url)) {
      throw new TypeError(`RedisBroker: url must be a redis:// or rediss:// URL, got ${JSON.stringify(options?.url)}`);
    }
    this.#options = {
      url: options.url,
      prefix: options.prefix ?? 'herald:',
      maxEvents: options.maxEvents ?? 10_000,
      maxAgeMs: options.maxAgeMs ?? 60 * 60 * 1000,
      blockMs: options.blockMs ?? 5000,
      commandTimeoutMs: options.commandTimeoutMs ?? 2000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    };
    for (const key of ['maxEvents', 'maxAgeMs', 'blockMs', 'commandTimeoutMs', 'connectTimeoutMs'] as const) {
      if (!Number.isInteger(this.#options[key]) || this.#options[key] < 1) {
        throw new TypeError(`RedisBroker: ${key} must be a positive integer, got ${String(options[key])}`);
      }
    }
    this.#log = options.logger;
    const prefix = this.#options.prefix;
    this.#keys = { stream: `${prefix}log`, meta: `${prefix}meta`, pids: `${prefix}pid:` };
  }

  async start(listener: TailListener): Promise<void> {
    if (this.#listener !== undefined) throw new Error('RedisBroker: start() was already called');
    this.#listener = listener;
    const common: RedisOptions = { lazyConnect: true, connectionName: 'herald', retryStrategy: (n) => Math.min(n * 100, 2000) };
    // Commands fail at once while Redis is away, so publish answers 503 instead of waiting.
    const client = new Redis(this.#options.url, {
      ...common,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: this.#options.commandTimeoutMs,
    }) as HeraldRedis;
    client.defineCommand('heraldAppend', { numberOfKeys: 2, lua: APPEND_SCRIPT });
    client.defineCommand('heraldTrim', { numberOfKeys: 2, lua: TRIM_SCRIPT });
    client.defineCommand('heraldRead', { numberOfKeys: 2, lua: READ_SCRIPT });
    // The tail's blocking reads wait out an outage and resume from the last id.
    const reader = new Redis(this.#options.url, { ...common, maxRetriesPerRequest: null });
    this.#client = client;
    this.#reader = reader;
    for (const [name, connection] of [['client', client], ['reader', reader]] as const) {
      connection.on('error', (error: Error) => this.#log?.debug({ err: error, connection: name }, 'redis connection error'));
      connection.on('ready', () => this.#log?.info({ connection: name }, 'redis connected'));
      connection.on('close', () => {
        if (!this.#closed) this.#log?.warn({ connection: name }, 'redis connection lost; retrying');
      });
    }
    await this.#connect(client);
    await this.#connect(reader);
    await this.#readStartPosition(client);
    this.#trimTimer = setInterval(() => void this.#trim(), TRIM_INTERVAL_MS);
    this.#trimTimer.unref();
    this.#tailing = this.#tail();
  }

  async append(drafts: readonly EventDraft[]): Promise<AppendResult[]> {
    if (this.#closed) throw new HeraldError('broker_unavailable', 'the hub is closing');
    assertPublisherIds(drafts);
    const client = this.#requireClient();
    const timestamp = new Date().toISOString();
    const args = [
      randomBytes(5).toString('hex'),
      String(this.#options.maxEvents),
      String(Date.now() - this.#options.maxAgeMs),
      String(this.#options.maxAgeMs),
      this.#keys.pids,
      String(drafts.length),
    ];
    for (const draft of drafts) args.push(draft.id ?? '', draft.topic, draft.type, draft.dataJson ?? JSON.stringify(draft.data) ?? 'null', timestamp);
    const reply = await this.#command(() => client.heraldAppend(this.#keys.stream, this.#keys.meta, ...args));
    const epoch = String(reply[0]);
    return drafts.map((draft, i) => {
      const streamId = String(reply[1 + i * 2]);
      const duplicate = Number(reply[2 + i * 2]) === 1;
      return { id: draft.id ?? `${epoch}-${streamId}`, duplicate };
    });
  }

  head(): string | null {
    return this.#lastId === '0-0' ? null : positionOf(this.#lastId);
  }

  positionId(position: string | null): string {
    return `${this.#epoch}-${position === null ? '0-0' : streamIdOf(position)}`;
  }

  async read(after: string, until: string | null): Promise<ReadResult> {
    const client = this.#requireClient();
    const generated = GENERATED_ID.exec(after);
    const args = generated
      ? ['gen', generated[1]!, generated[2]!]
      : ['pid', after, ''];
    args.push(until === null ? '0-0' : streamIdOf(until), this.#keys.pids);
    const reply = await this.#command(() => client.heraldRead(this.#keys.stream, this.#keys.meta, ...args));
    if (reply[0] === 'unknown_id' || reply[0] === 'expired') return { ok: false, reason: reply[0] };
    const entries = reply[2] ?? [];
    return { ok: true, events: entries.map((entry) => this.#toEvent(entry)), after: positionOf(reply[1]!) };
  }

  isReady(): boolean {
    return !this.#closed && this.#client?.status === 'ready';
  }

  /** A lease kept in the key `<prefix>lease:<name>` (see redis-lease.ts); open leases are released by close(). */
  lease(name: string, options: LeaseOptions = {}): Lease {
    assertLeaseName(name);
    if (this.#client === undefined || this.#closed) throw new TypeError('RedisBroker: lease() needs a started broker that is not closed');
    const lease = new RedisLease(this.#client, `${this.#options.prefix}lease:${name}`, name, options, this.#log, (done) => this.#leases.delete(done));
    this.#leases.add(lease);
    return lease;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#leases].map((lease) => lease.release()));
    if (this.#trimTimer !== undefined) clearInterval(this.#trimTimer);
    this.#reader?.disconnect();
    await this.#tailing;
    await this.#client?.quit().catch(() => this.#client?.disconnect());
  }

  async #connect(connection: Redis): Promise<void> {
    const timeout = new Promise<never>((_, reject) => {
      setTimeout(() => reject(new Error(`no answer from Redis at ${redactUrl(this.#options.url)} within ${this.#options.connectTimeoutMs} ms`)), this.#options.connectTimeoutMs).unref();
    });
    try {
      await Promise.race([connection.connect(), timeout]);
    } catch (error) {
      connection.disconnect();
      throw new HeraldError('broker_unavailable', `cannot connect to Redis: ${(error as Error).message}`);
    }
  }

  /**
   * Where this node starts tailing, and the log's epoch, read in one MULTI so they
   * belong together. The epoch is created here when the log has none yet (HSETNX,
   * the append script's rule), so the first `connected` can name a position.
   * A stream emptied by retention starts after its last removed entry: `0-0` would
   * read as expired there, though nothing after this moment can be missed.
   */
  async #readStartPosition(client: HeraldRedis): Promise<void> {
    const reply = await this.#command(() =>
      client
        .multi()
        .hsetnx(this.#keys.meta, 'epoch', randomBytes(5).toString('hex'))
        .hget(this.#keys.meta, 'epoch')
        .hget(this.#keys.meta, 'trimmed')
        .xrevrange(this.#keys.stream, '+', '-', 'COUNT', 1)
        .exec(),
    );
    const failed = reply?.find(([error]) => error !== null);
    if (reply === null || failed !== undefined) {
      throw new HeraldError('broker_unavailable', `cannot read the event log's start position: ${String(failed?.[0] ?? 'transaction aborted')}`);
    }
    const [, epoch, trimmed, latest] = reply.map(([, value]) => value) as [unknown, string, string | null, StreamEntry[]];
    this.#noteEpoch(epoch);
    this.#lastId = latest[0]?.[0] ?? trimmed ?? '0-0';
  }

  /**
   * Records the epoch of the log as this node sees it: at start, then from every
   * entry the tail reads (a wiped Redis gets a new epoch on its next append), so
   * positionId() names positions in the log they belong to.
   */
  #noteEpoch(epoch: string): void {
    this.#epoch = epoch;
  }

  async #tail(): Promise<void> {
    const reader = this.#reader!;
    while (!this.#closed) {
      try {
        const reply = (await reader.xread('COUNT', TAIL_BATCH, 'BLOCK', this.#options.blockMs, 'STREAMS', this.#keys.stream, this.#lastId)) as
          | Array<[string, StreamEntry[]]>
          | null;
        const recovering = this.#tailFailures > 0;
        this.#tailFailures = 0;
        const entries = reply?.[0]?.[1];
        if (entries === undefined || entries.length === 0) continue;
        // Only a node that was away or is reading full batches can have fallen
        // behind retention; only then is the extra round trip worth it.
        const gap = (recovering || entries.length === TAIL_BATCH) && (await this.#trimmedPast(this.#lastId));
        const events = entries.map((entry) => this.#toEvent(entry));
        const last = entries[entries.length - 1]!;
        this.#lastId = last[0];
        this.#noteEpoch(fieldOf(last, 'e') ?? this.#epoch);
        this.#listener?.(events, gap);
      } catch (error) {
        if (this.#closed) return;
        if (this.#tailFailures++ === 0) this.#log?.warn({ err: error }, 'reading the redis stream failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * this.#tailFailures, 1000)));
      }
    }
  }

  // Whether retention has removed entries after `lastId`, which this node never read.
  async #trimmedPast(lastId: string): Promise<boolean> {
    if (lastId === '0-0') return false;
    const trimmed = await this.#reader!.hget(this.#keys.meta, 'trimmed');
    return trimmed !== null && streamIdBefore(lastId, trimmed);
  }

  #toEvent([streamId, fields]: StreamEntry): LogEvent {
    const field: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) field[fields[i]!] = fields[i + 1]!;
    const id = field['p'] ?? `${field['e']}-${streamId}`;
    const timestamp = field['s']!;
    const envelope: Envelope = { id, topic: field['t']!, type: field['y']!, data: JSON.parse(field['d']!), timestamp };
    // The stored data is already JSON: the event splices it in rather than serialize it again.
    return new LogEvent(envelope, positionOf(streamId), Date.parse(timestamp), field['d']);
  }

  async #trim(): Promise<void> {
    const client = this.#client;
    if (client === undefined || client.status !== 'ready') return;
    await client
      .heraldTrim(this.#keys.stream, this.#keys.meta, String(this.#options.maxEvents), String(Date.now() - this.#options.maxAgeMs))
      .catch((error: unknown) => this.#log?.debug({ err: error }, 'trimming the redis stream failed'));
  }

  #requireClient(): HeraldRedis {
    if (this.#client === undefined) throw new HeraldError('broker_unavailable', 'the broker has not started');
    return this.#client;
  }

  async #command<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof HeraldError) throw error;
      throw new HeraldError('broker_unavailable', `the event log (Redis) did not answer: ${(error as Error).message}`);
    }
  }
}

/** The value of one field of a stream entry. */
function fieldOf([, fields]: StreamEntry, name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** A Redis URL with any password replaced, for logs and errors. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

RedisBroker satisfies new (options: RedisBrokerOptions) => Broker;
