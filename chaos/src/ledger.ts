import { performance } from 'node:perf_hooks';

/** Milliseconds on the harness's one monotonic clock; every timestamp in the accounting uses it. */
export const now = (): number => performance.now();

/**
 * One logical event a publisher (or a Postgres writer) tried to put in the log.
 * `key` is the harness's own name for it, carried in `data.k`, so an event is recognised
 * whatever id the hub gave it (publisher ids, or `outbox-<row id>` from the relay).
 */
export interface LedgerEntry {
  key: string;
  topic: string;
  /** When the first attempt started: the event cannot be in the log before this. */
  sentAt: number;
  /** When the hub acknowledged it (201, `published`, or COMMIT returned); undefined while not. */
  ackedAt: number | undefined;
  /**
   * Every attempt was refused with a code that promises nothing was published
   * (503 `broker_unavailable`), and none was acknowledged. One attempt with an
   * unclear end (a timeout, a cut) makes this false: that attempt may have published.
   */
  refused: boolean;
  /** Attempts answered with such a refusal. */
  refusals: number;
  /** Attempts made, for the report. */
  attempts: number;
}

/**
 * Every event the run tried to publish, in the order they were first sent. The
 * ledger is the ground truth of the accounting: "expected" is computed from it,
 * never from what subscribers saw.
 */
export class Ledger {
  readonly #entries = new Map<string, LedgerEntry>();

  /** Records the first attempt of `key` (later calls for the same key only count attempts). */
  sent(key: string, topic: string): LedgerEntry {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = { key, topic, sentAt: now(), ackedAt: undefined, refused: false, refusals: 0, attempts: 0 };
      this.#entries.set(key, entry);
    }
    entry.attempts += 1;
    entry.refused = false;
    return entry;
  }

  /** The hub acknowledged `key`: it is in the log. */
  acked(key: string): void {
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.ackedAt === undefined) {
      entry.ackedAt = now();
      entry.refused = false;
    }
  }

  /** The hub refused `key` with a code that means nothing was published. */
  refused(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.ackedAt !== undefined) return;
    entry.refusals += 1;
    entry.refused = entry.refusals === entry.attempts;
  }

  get(key: string): LedgerEntry | undefined {
    return this.#entries.get(key);
  }

  entries(): IterableIterator<LedgerEntry> {
    return this.#entries.values();
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Acknowledged entries. */
  ackedCount(): number {
    let count = 0;
    for (const entry of this.#entries.values()) if (entry.ackedAt !== undefined) count += 1;
    return count;
  }
}
