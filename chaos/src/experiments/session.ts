import { randomBytes } from 'node:crypto';
import { judge, stillMissing } from '../accounting.js';
import type { ChaosClient, ClientKind } from '../clients/client.js';
import { makeClient } from '../clients/make.js';
import { Ledger, now } from '../ledger.js';
import { runPublisher, type PublisherOptions, type PublisherStats } from '../publisher.js';
import { sleep } from '../random.js';
import { totals, verdict, type ExperimentResult } from '../report.js';

/** Knobs every experiment takes. */
export interface ExperimentOptions {
  /** How long faults and publishing go on, ms. */
  durationMs: number;
  /** Subscribers per client kind. */
  subscribersPerKind: number;
  /** Seeded randomness for everything the experiment decides. */
  random: () => number;
  /** Progress lines go here (stderr in the CLI, nowhere in tests). */
  log: (line: string) => void;
}

/**
 * The bookkeeping one experiment run shares: the ledger, the subscribers and the
 * publishers. It knows nothing about faults; the experiment injects those.
 */
export class Session {
  readonly ledger = new Ledger();
  readonly run = randomBytes(4).toString('hex');
  readonly clients: ChaosClient[] = [];
  readonly #publishers: Array<Promise<PublisherStats>> = [];
  #stopped = false;
  readonly startedAt = Date.now();
  /** The harness clock at the start: timelines and fault marks are measured from it. */
  readonly origin = now();
  /** Fault marks ("B partitioned" at t ms), for the report. */
  readonly marks: string[] = [];

  constructor(readonly options: ExperimentOptions) {}

  /**
   * Starts `subscribersPerKind` subscribers of each kind; within a kind they take the
   * patterns in turn, so with one per kind every kind gets the first (broadest) one.
   */
  subscribe(kinds: readonly ClientKind[], patterns: readonly string[], url: (index: number) => () => string): void {
    let index = 0;
    for (const kind of kinds) {
      for (let i = 0; i < this.options.subscribersPerKind; i++) {
        const pattern = patterns[i % patterns.length]!;
        this.clients.push(makeClient(kind, `${kind}#${i}`, pattern, url(index), this.options.random));
        index += 1;
      }
    }
  }

  /** Notes a fault event with its time since the start, so timelines can be read against it. */
  mark(what: string): void {
    this.marks.push(`${Math.round(now() - this.origin)} ms: ${what}`);
  }

  /** Waits until every subscriber has been confirmed once (or `timeoutMs`). */
  async waitSubscribed(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.clients.some((c) => c.log.startedAt === undefined)) await sleep(50);
  }

  /** Starts a publisher; it runs until {@link stopPublishing}. */
  publish(options: Omit<PublisherOptions, 'run' | 'ledger' | 'stopped' | 'random'>): void {
    this.#publishers.push(runPublisher({ ...options, run: this.run, ledger: this.ledger, stopped: () => this.#stopped, random: this.options.random }));
  }

  /** Tells publishers to stop and waits for their last events to settle. */
  async stopPublishing(): Promise<PublisherStats> {
    this.#stopped = true;
    const all = await Promise.all(this.#publishers);
    return all.reduce(
      (sum, s) => ({
        attempted: sum.attempted + s.attempted,
        acknowledged: sum.acknowledged + s.acknowledged,
        refused: sum.refused + s.refused,
        abandoned: sum.abandoned + s.abandoned,
        retries: sum.retries + s.retries,
      }),
      { attempted: 0, acknowledged: 0, refused: 0, abandoned: 0, retries: 0 },
    );
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * Waits until no subscriber lacks an expected event that no reset covers, or
   * `timeoutMs`: delivery after faults may take a reconnect or two.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.clients.some((c) => stillMissing(c.log, this.ledger))) return true;
      if (Date.now() > deadline) return false;
      await sleep(250);
    }
  }

  async closeClients(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
  }

  // Error codes clients were sent (a connection refused or ended with `error`), by
  // client kind: not a verdict, but a wrong code (internal_error for an outage) is a finding.
  #errorsSeen(): string[] {
    const counts = new Map<string, number>();
    for (const client of this.clients) {
      for (const note of client.log.notes) {
        const code = /^(?:error:?|subscription refused:) ?([a-z_]+)/.exec(note)?.[1] ?? /^GET \/events answered (\d+)/.exec(note)?.[1];
        if (code === undefined) continue;
        const key = `${code} (${client.kind})`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    if (counts.size === 0) return [];
    return [`error codes clients were sent: ${[...counts].map(([k, n]) => `${k} ×${n}`).join(', ')} (the first 20 per subscriber)`];
  }

  /** Judges every subscriber and builds the experiment's result. */
  result(args: {
    name: string;
    title: string;
    knobs: Record<string, string | number>;
    published: { attempted: number; acknowledged: number; refused: number };
    crashes: number;
    /** Faults injected; default the number of marks. */
    faults?: number;
    notes: string[];
    logOrder?: ReadonlyMap<string, number> | undefined;
    /** Groups subscribers into table rows; default by client kind. */
    groupOf?: (client: ChaosClient) => string;
  }): ExperimentResult {
    const groupOf = args.groupOf ?? ((c: ChaosClient) => c.kind);
    const tallies = this.clients.map((c) => ({ group: groupOf(c), tally: judge(c.log, this.ledger, { logOrder: args.logOrder, origin: this.origin }) }));
    const labels = [...new Set(tallies.map((t) => t.group))];
    const rows = labels.map((label) =>
      totals(
        label,
        tallies.filter((t) => t.group === label).map((t) => t.tally),
      ),
    );
    const failures = verdict(rows, args.crashes, args.published.acknowledged);
    if ((args.faults ?? this.marks.length) === 0) failures.push('no fault was injected: the run proves nothing');
    return {
      name: args.name,
      title: args.title,
      knobs: args.knobs,
      durationMs: Date.now() - this.startedAt,
      published: args.published,
      rows,
      faults: args.faults ?? this.marks.length,
      crashes: args.crashes,
      passed: failures.length === 0,
      failures,
      notes: [...args.notes, ...(this.marks.length > 0 ? [`faults: ${this.marks.join('; ')}`] : []), ...this.#errorsSeen()],
      subscribers: tallies.map((t) => t.tally),
    };
  }
}
