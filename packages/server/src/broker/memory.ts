import { randomBytes } from 'node:crypto';
import { HeraldError } from '@herald/protocol';
import { LogEvent } from '../encoding/log-event.js';
import {
  assertPublisherIds,
  type AppendResult,
  type Broker,
  type EventDraft,
  type Lease,
  type LeaseOptions,
  type ReadResult,
  type TailListener,
} from './broker.js';
import { LocalLeases } from './local-leases.js';

/** Positions are sequence numbers padded to a fixed width, so they compare as strings. */
function positionOf(seq: number): string {
  return seq.toString().padStart(16, '0');
}

/** Settings of the in-memory log. */
export interface MemoryBrokerOptions {
  /** Most events kept for resume. Default 10,000. */
  maxEvents?: number;
  /** Oldest event kept for resume, in milliseconds. Default one hour. */
  maxAgeMs?: number;
  /** Clock in milliseconds; tests inject one. Default `Date.now`. */
  now?: () => number;
}

const DEFAULT_MAX_EVENTS = 10_000;
const DEFAULT_MAX_AGE_MS = 60 * 60 * 1000;
const AGE_SWEEP_INTERVAL_MS = 1000;

/**
 * A single-node log held in process memory. Ids are `<epoch>-<sequence>`; the epoch
 * is random per process, so ids from an earlier run are recognised as unknown and
 * clients that present one get `reset` instead of silent loss.
 */
export class MemoryBroker implements Broker {
  readonly name = 'memory';
  readonly epoch: string;
  readonly #maxEvents: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  // Retained events live in #events[#offset..]; the event at index i has sequence
  // #firstSeq + (i - #offset). The offset avoids an O(n) shift per trimmed event.
  // Trimmed slots are cleared at once, so trimmed events are garbage before the
  // array is compacted (it would otherwise keep up to 1,024 + historySize events alive).
  #events: Array<LogEvent | undefined> = [];
  #offset = 0;
  #firstSeq = 1;
  #lastSeq = 0;
  readonly #publisherIds = new Map<string, number>();
  #listener: TailListener | undefined;
  #sweep: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #leases = new LocalLeases();

  constructor(options: MemoryBrokerOptions = {}) {
    this.#maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS;
    this.#maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.#now = options.now ?? Date.now;
    if (!Number.isInteger(this.#maxEvents) || this.#maxEvents < 1) {
      throw new TypeError(`MemoryBroker: maxEvents must be a positive integer, got ${String(options.maxEvents)}`);
    }
    if (!(this.#maxAgeMs > 0)) {
      throw new TypeError(`MemoryBroker: maxAgeMs must be a positive number, got ${String(options.maxAgeMs)}`);
    }
    this.epoch = randomBytes(5).toString('hex');
  }

  async start(listener: TailListener): Promise<void> {
    if (this.#listener !== undefined) throw new Error('MemoryBroker: start() was already called');
    this.#listener = listener;
    this.#sweep = setInterval(() => this.#trim(), AGE_SWEEP_INTERVAL_MS);
    this.#sweep.unref();
  }

  async append(drafts: readonly EventDraft[]): Promise<AppendResult[]> {
    if (this.#closed) throw new HeraldError('broker_unavailable', 'the hub is closing');
    assertPublisherIds(drafts);
    const now = this.#now();
    const timestamp = new Date(now).toISOString();
    const results: AppendResult[] = [];
    const appended: LogEvent[] = [];
    for (const draft of drafts) {
      const existing = draft.id === undefined ? undefined : this.#publisherIds.get(draft.id);
      if (existing !== undefined) {
        results.push({ id: draft.id!, duplicate: true });
        continue;
      }
      const seq = ++this.#lastSeq;
      const id = draft.id ?? `${this.epoch}-${seq}`;
      if (draft.id !== undefined) this.#publisherIds.set(draft.id, seq);
      const event = new LogEvent({ id, topic: draft.topic, type: draft.type, data: draft.data, timestamp }, positionOf(seq), now, draft.dataJson);
      this.#events.push(event);
      appended.push(event);
      results.push({ id, duplicate: false });
    }
    this.#trim();
    if (appended.length > 0) this.#listener?.(appended);
    return results;
  }

  head(): string | null {
    return this.#lastSeq === 0 ? null : positionOf(this.#lastSeq);
  }

  positionId(position: string | null): string {
    return `${this.epoch}-${position === null ? 0 : Number(position)}`;
  }

  async read(after: string, until: string | null): Promise<ReadResult> {
    const afterSeq = this.#seqOf(after);
    if (afterSeq === undefined || afterSeq > this.#lastSeq) return { ok: false, reason: 'unknown_id' };
    // The client may hold the event just before the oldest retained one: nothing it needs is gone.
    if (afterSeq < this.#firstSeq - 1) return { ok: false, reason: 'expired' };
    const untilSeq = until === null ? 0 : Number(until);
    const events: LogEvent[] = [];
    for (let seq = afterSeq + 1; seq <= untilSeq; seq++) {
      const event = this.#eventAt(seq);
      if (event !== undefined) events.push(event);
    }
    return { ok: true, events, after: positionOf(afterSeq) };
  }

  isReady(): boolean {
    return !this.#closed;
  }

  /** This process owns the log, so a lease is held at once unless another lease of the name is open here. */
  lease(name: string, options?: LeaseOptions): Lease {
    return this.#leases.lease(name, options);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#leases.close();
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
  }

  #eventAt(seq: number): LogEvent | undefined {
    if (seq < this.#firstSeq || seq > this.#lastSeq) return undefined;
    return this.#events[this.#offset + (seq - this.#firstSeq)];
  }

  // `<epoch>-<n>` names log position n, 0 (before the first event) to the last: as an
  // event id when the event there has no publisher id, and as a position (from
  // positionId) whatever the event's id. Either way it means "everything up to n",
  // so nothing needs telling apart. A number past the last position was never issued.
  #seqOf(id: string): number | undefined {
    const published = this.#publisherIds.get(id);
    if (published !== undefined) return published;
    const dash = id.lastIndexOf('-');
    if (dash < 0 || id.slice(0, dash) !== this.epoch) return undefined;
    const digits = id.slice(dash + 1);
    if (!/^(0|[1-9][0-9]{0,15})$/.test(digits)) return undefined;
    return Number(digits);
  }

  #trim(): void {
    const cutoff = this.#now() - this.#maxAgeMs;
    let drop = 0;
    const retained = this.#events.length - this.#offset;
    while (drop < retained) {
      const event = this.#events[this.#offset + drop]!;
      if (retained - drop <= this.#maxEvents && event.acceptedAt >= cutoff) break;
      if (event.id !== `${this.epoch}-${this.#firstSeq + drop}`) this.#publisherIds.delete(event.id);
      drop++;
    }
    if (drop === 0) return;
    this.#events.fill(undefined, this.#offset, this.#offset + drop);
    this.#offset += drop;
    this.#firstSeq += drop;
    if (this.#offset > 1024 && this.#offset * 2 > this.#events.length) {
      this.#events = this.#events.slice(this.#offset);
      this.#offset = 0;
    }
  }

  /**
   * Loads events of an earlier run (in log order, oldest first) into a log that has
   * never held an event, with their own ids and times; used by the outbox relay to
   * refill history after a restart. They become history, as the events a shared log
   * already holds when a node starts: `head()` moves to the last one and `read()`
   * replays them, but they are not passed to the tail listener, so no live
   * subscriber receives them as new. Every id is a publisher id, deduplicated like
   * an appended one. Retention applies at once (`maxEvents`, `maxAgeMs` from each
   * event's `acceptedAt`). All or nothing: throws, restoring nothing, when the log
   * has held an event, or an id is reserved (see RESERVED_ID) or repeated.
   */
  restore(events: readonly RestoredEvent[]): void {
    if (this.#lastSeq !== 0) throw new Error('MemoryBroker: restore() needs a log that has never held an event');
    assertPublisherIds(events);
    const ids = new Set<string>();
    for (const event of events) {
      if (ids.has(event.id)) throw new Error(`MemoryBroker: restore() got the id ${JSON.stringify(event.id)} twice`);
      ids.add(event.id);
    }
    for (const event of events) {
      const seq = ++this.#lastSeq;
      this.#publisherIds.set(event.id, seq);
      const envelope = { id: event.id, topic: event.topic, type: event.type, data: event.data, timestamp: new Date(event.acceptedAt).toISOString() };
      this.#events.push(new LogEvent(envelope, positionOf(seq), event.acceptedAt, event.dataJson));
    }
    this.#trim();
  }
}

/** An event of an earlier run, for {@link MemoryBroker.restore}. */
export interface RestoredEvent extends EventDraft {
  /** The event's id as clients know it (a publisher id, such as `outbox-42`). */
  id: string;
  /** When the event was first accepted, in milliseconds since the epoch: its `timestamp`, and the start of its age. */
  acceptedAt: number;
}

MemoryBroker satisfies new (options?: MemoryBrokerOptions) => Broker;
