import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { LEASE_TTL_MS, type Lease, type LeaseOptions } from './broker.js';

/**
 * Takes the lease when nobody holds it (SET NX PX) or renews it when this token
 * already does (compare-and-PEXPIRE), in one step so nobody can slip in between.
 * Returns {1, 0} when this token holds it now, else {0, PTTL}: how long the
 * current holder's claim has left, so the caller can try again right when it lapses.
 */
const CLAIM_SCRIPT = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1, 0} end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, 0}
end
return {0, redis.call('PTTL', KEYS[1])}
`;

/** Deletes the key only while this token holds it: a release never frees another node's lease. */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * What a holder takes off its claim for clock drift: 1% of the TTL (the clock-rate
 * bound the contract states) plus 2 ms of timer granularity, the margin Redlock uses.
 */
function driftMarginMs(ttlMs: number): number {
  return Math.ceil(ttlMs / 100) + 2;
}

/** A TTL too short to renew reliably (a third of it must outlast a round trip) is refused. */
const MIN_TTL_MS = 100;

/**
 * One lease in Redis: the key holds the holder's token (`host:pid:random`, so an
 * operator can see who holds it) and expires after the TTL unless renewed.
 * Every lease, holder or not, tries every third of the TTL; a non-holder tries
 * as soon as the holder's claim lapses if that comes sooner, so a dead holder is
 * replaced within the TTL of its last renewal.
 *
 * A claim counts from when its command was sent, not answered, and ends a drift
 * margin early: Redis starts the key's expiry later than that, by its own clock,
 * so `held()` is false before Redis could give the key to anyone else.
 */
export class RedisLease implements Lease {
  readonly name: string;
  /** The Redis key, `<prefix>lease:<name>`. */
  readonly key: string;
  /** What this lease writes into the key while it holds it. */
  readonly token = `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
  readonly ready: Promise<void>;
  readonly #client: Redis;
  readonly #ttlMs: number;
  readonly #eligible: () => boolean;
  readonly #onChange: ((held: boolean) => void) | undefined;
  readonly #log: Logger | undefined;
  readonly #forget: (lease: RedisLease) => void;
  // performance.now() at which the last confirmed claim, less the margin, runs out; 0 when none.
  #validUntil = 0;
  #reported = false;
  #timer: NodeJS.Timeout | undefined;
  #attempting: Promise<number> | undefined;
  #releasing: Promise<void> | undefined;

  /** Starts trying at once; `forget` is called when the lease is released. */
  constructor(client: Redis, key: string, name: string, options: LeaseOptions, log: Logger | undefined, forget: (lease: RedisLease) => void) {
    const ttlMs = options.ttlMs ?? LEASE_TTL_MS;
    if (!Number.isInteger(ttlMs) || ttlMs < MIN_TTL_MS) {
      throw new TypeError(`lease ${JSON.stringify(name)}: ttlMs must be an integer of at least ${MIN_TTL_MS}, got ${String(options.ttlMs)}`);
    }
    this.name = name;
    this.key = key;
    this.#client = client;
    this.#ttlMs = ttlMs;
    this.#eligible = options.eligible ?? (() => true);
    this.#onChange = options.onChange;
    this.#log = log;
    this.#forget = forget;
    this.ready = this.#tick();
  }

  held(): boolean {
    return this.#releasing === undefined && performance.now() < this.#validUntil;
  }

  release(): Promise<void> {
    this.#releasing ??= this.#release();
    return this.#releasing;
  }

  async #release(): Promise<void> {
    clearTimeout(this.#timer);
    this.#forget(this);
    // A claim still in flight could set the key again after the delete; let it land first.
    await this.#attempting;
    this.#validUntil = 0;
    await this.#giveUp();
    this.#report();
  }

  async #tick(): Promise<void> {
    this.#attempting = this.#attempt();
    const nextInMs = await this.#attempting;
    this.#attempting = undefined;
    this.#report();
    if (this.#releasing !== undefined) return;
    this.#timer = setTimeout(() => void this.#tick(), nextInMs);
    this.#timer.unref();
  }

  /** One claim or renewal; resolves (never rejects) with the delay until the next. */
  async #attempt(): Promise<number> {
    const renewEveryMs = Math.floor(this.#ttlMs / 3);
    if (!this.#eligible()) {
      // This node cannot do the work: hand the role to one that can.
      if (this.#validUntil > 0) {
        this.#validUntil = 0;
        await this.#giveUp();
      }
      return renewEveryMs;
    }
    const sentAt = performance.now();
    try {
      const [won, remainingMs] = (await this.#client.eval(CLAIM_SCRIPT, 1, this.key, this.token, String(this.#ttlMs))) as [number, number];
      if (won === 1) {
        this.#validUntil = sentAt + this.#ttlMs - driftMarginMs(this.#ttlMs);
        return renewEveryMs;
      }
      this.#validUntil = 0;
      // PTTL -1: a key without expiry (set by hand); -2: gone since; retry on the usual beat.
      return remainingMs >= 0 ? Math.min(renewEveryMs, remainingMs + 1) : renewEveryMs;
    } catch (error) {
      // Unanswered: the last confirmed claim still runs out by itself, so nothing to undo.
      this.#log?.debug({ err: error, lease: this.name }, 'lease: claiming or renewing failed; retrying');
      return renewEveryMs;
    }
  }

  async #giveUp(): Promise<void> {
    try {
      await this.#client.eval(RELEASE_SCRIPT, 1, this.key, this.token);
    } catch (error) {
      // Unreleased, the key simply expires after the TTL.
      this.#log?.debug({ err: error, lease: this.name }, 'lease: releasing failed; it expires instead');
    }
  }

  #report(): void {
    const held = this.held();
    if (held === this.#reported) return;
    this.#reported = held;
    this.#onChange?.(held);
  }
}
