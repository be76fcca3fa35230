import { randomBytes } from 'node:crypto';
import { HeraldError } from '@herald/protocol';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { assertPublisherIds, type AppendResult, type Broker, type EventDraft, type ReadResult, type StatusListener, type TailListener } from './broker.js';
import { RedisClock } from './redis-clock.js';
import { eventOfEntry, GENERATED_ID, positionOf, redactUrl, streamIdOf, type HeraldRedis, type RedisBrokerOptions } from './redis-entries.js';
import { RETRY_MS, settleAppend, sleep, within } from './redis-outcome.js';
import { numberOrUndefined, TailPosition, type LogState, type StreamEntry } from './redis-tail-position.js';
import { APPEND_SCRIPT, OUTCOME_SCRIPT, READ_SCRIPT, STATE_SCRIPT, TRIM_SCRIPT } from './redis-scripts.js';
import type { Lease, LeaseOptions } from './broker.js';
import { assertLeaseName } from './local-leases.js';
import { RedisLease } from './redis-lease.js';

const TRIM_INTERVAL_MS = 1000;
const TAIL_BATCH = 1000;

/**
 * The log as a Redis Stream shared by every hub node. Appends are one Lua script
 * (dedupe, XADD, trim); every node tails the stream with a blocking XREAD from the
 * last id it has seen, so a node that loses Redis catches up from where it was.
 * Ids are `<epoch>-<stream id>`, the same on every node; the epoch lives in Redis,
 * so a wiped Redis gives a new epoch and old ids get `reset`.
 *
 * Gaps are exact: every entry carries its epoch and log sequence number, and the
 * tail checks that each batch continues the last entry it read. A periodic probe
 * (TIME, which also calibrates the clock appends use for their deadline) and tail
 * failures mark the log unavailable; the tail then re-reads the log's state and
 * reports any gap before it reports the log available again.
 */
export class RedisBroker implements Broker {
  readonly name = 'redis';
  readonly #options: Required<Omit<RedisBrokerOptions, 'logger'>>;
  readonly #log: Logger | undefined;
  readonly #keys: { stream: string; meta: string; pids: string; appends: string };
  #client: HeraldRedis | undefined;
  #reader: Redis | undefined;
  #listener: TailListener | undefined;
  #closed = false;
  #trimTimer: NodeJS.Timeout | undefined;
  #tailing: Promise<void> | undefined;
  #tailFailures = 0;
  readonly #leases = new Set<RedisLease>();
  #status: StatusListener | undefined;
  readonly #clock = new RedisClock();
  readonly #position = new TailPosition();
  #unavailable = false;
  #probeOk = true;
  #probing = false;
  #probeTimer: NodeJS.Timeout | undefined;
  // CLIENT ID of the reader's current connection, to unblock its XREAD on recovery.
  #readerId: string | undefined;

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
      probeIntervalMs: options.probeIntervalMs ?? 1000,
      probeTimeoutMs: options.probeTimeoutMs ?? 1000,
    };
    for (const key of ['maxEvents', 'maxAgeMs', 'blockMs', 'commandTimeoutMs', 'connectTimeoutMs', 'probeIntervalMs', 'probeTimeoutMs'] as const) {
      if (!Number.isInteger(this.#options[key]) || this.#options[key] < 1) {
        throw new TypeError(`RedisBroker: ${key} must be a positive integer, got ${String(options[key])}`);
      }
    }
    this.#log = options.logger;
    const prefix = this.#options.prefix;
    this.#keys = { stream: `${prefix}log`, meta: `${prefix}meta`, pids: `${prefix}pid:`, appends: `${prefix}append:` };
  }

  async start(listener: TailListener, status?: StatusListener): Promise<void> {
    if (this.#listener !== undefined) throw new Error('RedisBroker: start() was already called');
    this.#listener = listener;
    this.#status = status;
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
    client.defineCommand('heraldOutcome', { numberOfKeys: 1, lua: OUTCOME_SCRIPT });
    client.defineCommand('heraldState', { numberOfKeys: 2, lua: STATE_SCRIPT });
    // The tail's blocking reads wait out an outage (ioredis sends them again on
    // reconnect) and resume from the last id.
    const reader = new Redis(this.#options.url, { ...common, maxRetriesPerRequest: null }) as HeraldRedis;
    reader.defineCommand('heraldState', { numberOfKeys: 2, lua: STATE_SCRIPT });
    // 'ready' is emitted before ioredis sends again what was in flight, so this
    // CLIENT ID goes first and never waits behind a blocking XREAD.
    reader.on('ready', () => {
      this.#readerId = undefined;
      reader.call('CLIENT', 'ID').then(
        (id) => (this.#readerId = String(id)),
        () => undefined,
      );
    });
    this.#client = client;
    this.#reader = reader;
    for (const [name, connection] of [
      ['client', client],
      ['reader', reader],
    ] as const) {
      connection.on('error', (error: Error) => this.#log?.debug({ err: error, connection: name }, 'redis connection error'));
      connection.on('ready', () => this.#log?.info({ connection: name }, 'redis connected'));
      connection.on('close', () => {
        if (this.#closed) return;
        this.#log?.warn({ connection: name }, 'redis connection lost; retrying');
        // A lost connection is an outage even when Redis is back before the next
        // probe (a fast restart): the tail must check for a gap before going on.
        this.#probeOk = false;
        this.#markUnavailable(new Error(`the ${name} connection to Redis closed`));
      });
    }
    await this.#connect(client);
    await this.#connect(reader);
    const state = await this.#command(() => this.#readState(client));
    this.#position.startAt(state);
    this.#trimTimer = setInterval(() => void this.#trim(), TRIM_INTERVAL_MS);
    this.#trimTimer.unref();
    this.#probeTimer = setInterval(() => this.#probe(), this.#options.probeIntervalMs);
    this.#probeTimer.unref();
    this.#tailing = this.#tail();
  }

  async append(drafts: readonly EventDraft[]): Promise<AppendResult[]> {
    if (this.#closed) throw new HeraldError('broker_unavailable', 'the hub is closing');
    assertPublisherIds(drafts);
    const client = this.#requireClient();
    const timestamp = new Date().toISOString();
    const token = `${this.#keys.appends}${randomBytes(12).toString('base64url')}`;
    // Redis refuses the script past this instant of its own clock, so an append the
    // hub stopped waiting for cannot land after the hub answered.
    const deadline = String(this.#clock.now() + this.#options.commandTimeoutMs);
    const args = [
      randomBytes(5).toString('hex'),
      String(this.#options.maxEvents),
      String(Date.now() - this.#options.maxAgeMs),
      String(this.#options.maxAgeMs),
      this.#keys.pids,
      String(drafts.length),
      deadline,
      token,
      // The token only has to outlive the settling, which ends about one command
      // timeout after the deadline; kept short, tokens cost little memory at high rates.
      String(3 * this.#options.commandTimeoutMs + 5000),
    ];
    for (const draft of drafts) args.push(draft.id ?? '', draft.topic, draft.type, draft.dataJson ?? JSON.stringify(draft.data) ?? 'null', timestamp);
    const reply = await settleAppend({
      run: () => client.heraldAppend(this.#keys.stream, this.#keys.meta, ...args),
      outcome: () => client.heraldOutcome(token, deadline),
      resolveWithinMs: this.#options.commandTimeoutMs,
      closed: () => this.#closed,
    });
    const epoch = String(reply[0]);
    return drafts.map((draft, i) => {
      const streamId = String(reply[1 + i * 2]);
      const duplicate = Number(reply[2 + i * 2]) === 1;
      return { id: draft.id ?? `${epoch}-${streamId}`, duplicate };
    });
  }

  head(): string | null {
    return this.#position.lastId === '0-0' ? null : positionOf(this.#position.lastId);
  }

  positionId(position: string | null): string {
    return `${this.#position.epoch}-${position === null ? '0-0' : streamIdOf(position)}`;
  }

  async read(after: string, until: string | null): Promise<ReadResult> {
    const client = this.#requireClient();
    const generated = GENERATED_ID.exec(after);
    const args = generated ? ['gen', generated[1]!, generated[2]!] : ['pid', after, ''];
    args.push(until === null ? '0-0' : streamIdOf(until), this.#keys.pids);
    const reply = await this.#command(() => client.heraldRead(this.#keys.stream, this.#keys.meta, ...args));
    if (reply[0] === 'unknown_id' || reply[0] === 'expired') return { ok: false, reason: reply[0] };
    const entries = reply[2] ?? [];
    return { ok: true, events: entries.map((entry) => eventOfEntry(entry)), after: positionOf(reply[1]!) };
  }

  isReady(): boolean {
    return !this.#closed && !this.#unavailable && this.#client?.status === 'ready';
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
    if (this.#probeTimer !== undefined) clearInterval(this.#probeTimer);
    this.#reader?.disconnect();
    await this.#tailing;
    await this.#client?.quit().catch(() => this.#client?.disconnect());
  }

  async #connect(connection: Redis): Promise<void> {
    const timeout = new Promise<never>((_, reject) => {
      setTimeout(
        () => reject(new Error(`no answer from Redis at ${redactUrl(this.#options.url)} within ${this.#options.connectTimeoutMs} ms`)),
        this.#options.connectTimeoutMs,
      ).unref();
    });
    try {
      await Promise.race([connection.connect(), timeout]);
    } catch (error) {
      connection.disconnect();
      throw new HeraldError('broker_unavailable', `cannot connect to Redis: ${(error as Error).message}`);
    }
  }

  // Reads the stream from the last entry read, forever. While the log is marked
  // unavailable it first re-reads the log's state (#recover), so any gap is
  // reported before the log is reported available and before newer entries.
  async #tail(): Promise<void> {
    const reader = this.#reader! as HeraldRedis;
    while (!this.#closed) {
      try {
        if (this.#unavailable) {
          if (!this.#probeOk) {
            await sleep(RETRY_MS);
            continue;
          }
          await this.#recover(reader);
        }
        const reply = (await reader.xread('COUNT', TAIL_BATCH, 'BLOCK', this.#options.blockMs, 'STREAMS', this.#keys.stream, this.#position.lastId)) as Array<
          [string, StreamEntry[]]
        > | null;
        this.#tailFailures = 0;
        // Marked unavailable while this read waited: recover first, then read these entries again.
        if (this.#unavailable) continue;
        const entries = reply?.[0]?.[1];
        if (entries === undefined || entries.length === 0) continue;
        const gap = this.#position.gapBefore(entries[0]!);
        const events = entries.map((entry) => eventOfEntry(entry));
        this.#position.advance(entries[entries.length - 1]!);
        this.#listener?.(events, gap);
      } catch (error) {
        if (this.#closed) return;
        this.#markUnavailable(error);
        if (this.#tailFailures++ === 0) this.#log?.warn({ err: error }, 'reading the redis stream failed; retrying');
        await sleep(Math.min(RETRY_MS * this.#tailFailures, 1000));
      }
    }
  }

  // After an outage: compares the log's state with what this node last read,
  // reports a gap if there is one (and moves past it so it is reported once), then
  // reports the log available.
  async #recover(reader: HeraldRedis): Promise<void> {
    const gap = this.#position.recover(await this.#readState(reader));
    if (gap !== undefined) {
      this.#log?.warn({ reason: gap }, 'this node missed events while the redis log was unavailable');
      this.#listener?.([], gap);
    }
    if (this.#closed || !this.#unavailable) return;
    this.#unavailable = false;
    this.#log?.info('the redis log is available again');
    this.#status?.('available');
  }

  async #readState(connection: HeraldRedis): Promise<LogState> {
    const sentAt = Date.now();
    const { epoch, lastSeq } = this.#position;
    const reply = await connection.heraldState(
      this.#keys.stream,
      this.#keys.meta,
      randomBytes(5).toString('hex'),
      epoch,
      lastSeq === undefined ? '' : String(lastSeq),
    );
    this.#clock.sample(reply[0]!, reply[1]!, sentAt, Date.now());
    return {
      epoch: reply[2]!,
      seq: Number(reply[3]),
      first: numberOrUndefined(reply[4]),
      lastId: reply[5] === '' ? undefined : reply[5],
      last: numberOrUndefined(reply[6]),
      trimmed: reply[7] === '' || reply[7] === undefined ? undefined : reply[7],
    };
  }

  // Checks that Redis answers in time and samples its clock. A failure marks the
  // log unavailable; the first success after one wakes the tail to recover.
  #probe(): void {
    const client = this.#client;
    if (this.#probing || this.#closed || client === undefined) return;
    this.#probing = true;
    const sentAt = Date.now();
    within(client.time(), this.#options.probeTimeoutMs)
      .then(
        ([seconds, microseconds]) => {
          this.#clock.sample(String(seconds), String(microseconds), sentAt, Date.now());
          this.#probeOk = true;
          if (this.#unavailable && this.#readerId !== undefined) {
            client.call('CLIENT', 'UNBLOCK', this.#readerId).catch(() => undefined);
          }
        },
        (error: unknown) => {
          this.#probeOk = false;
          this.#markUnavailable(error);
        },
      )
      .finally(() => (this.#probing = false));
  }

  #markUnavailable(error: unknown): void {
    if (this.#unavailable || this.#closed) return;
    this.#unavailable = true;
    this.#log?.warn({ err: error }, 'the redis log is unavailable; delivery paused');
    this.#status?.('unavailable');
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

export { redactUrl, type RedisBrokerOptions } from './redis-entries.js';

RedisBroker satisfies new (options: RedisBrokerOptions) => Broker;
