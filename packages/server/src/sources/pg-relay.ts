import { HeraldError } from '@herald/protocol';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Hub, PublishInput } from '../hub.js';
import { toDraft } from '../publish-input.js';
import { SourceReporter } from './source-input.js';
import { refillMemoryLog } from './pg-refill.js';
import { quoteIdentifier } from './pg-sql.js';

/** Settings of {@link OutboxRelay}. */
export interface OutboxRelayOptions {
  /** Postgres connection string; the outbox lives in the first schema of its search_path. */
  url: string;
  /** How often the relay looks for rows even without a NOTIFY, in milliseconds. Default 1,000. */
  pollIntervalMs?: number;
  /** How long delivered rows are kept, in milliseconds. Default 7 days. */
  retentionMs?: number;
  /** How often delivered rows past retention are deleted, in milliseconds. Default 60,000. */
  cleanupIntervalMs?: number;
  /** Rows moved per step. Default 500. */
  batchSize?: number;
  /** How often a node without the relay lock tries to take it, in milliseconds. Default 2,000. */
  lockRetryMs?: number;
  /**
   * Whether a relay that takes the lock while the hub's log is an empty MemoryBroker
   * first loads the newest retained, already-relayed rows into it (see refill.ts), so
   * clients resuming from an `outbox-…` id across a hub restart are not reset. Default true.
   */
  refillHistory?: boolean;
  logger?: Logger;
}

interface OutboxRow {
  id: string;
  seq: string;
  topic: string;
  type: string;
  data: unknown;
}

const CLEANUP_BATCH = 1000;

/**
 * Moves committed outbox rows into the Herald log in commit order (`seq`, see
 * sql.ts), at least once: each row is published with the publisher id
 * `outbox-<row id>`, so a crash between publishing and advancing the cursor
 * republishes rows the log then recognises as duplicates. One relay per database
 * at a time: a session advisory lock, which a dead holder's session releases, so
 * another node takes over.
 */
export class OutboxRelay {
  readonly #hub: Hub;
  readonly #options: Required<Omit<OutboxRelayOptions, 'logger'>>;
  readonly #log: Logger | undefined;
  readonly #reporter: SourceReporter;
  #client: pg.Client | undefined;
  #closed = false;
  #holding = false;
  #draining: Promise<void> | undefined;
  #again = false;
  #timers: NodeJS.Timeout[] = [];
  #retry: NodeJS.Timeout | undefined;
  #drainFailing = false;
  #connecting = false;
  /** The outbox schema resolved at connect, quoted: every query names its tables with it. */
  #schema = '';

  constructor(hub: Hub, options: OutboxRelayOptions) {
    this.#hub = hub;
    this.#options = {
      url: options.url,
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      retentionMs: options.retentionMs ?? 7 * 24 * 3600 * 1000,
      cleanupIntervalMs: options.cleanupIntervalMs ?? 60_000,
      batchSize: options.batchSize ?? 500,
      lockRetryMs: options.lockRetryMs ?? 2000,
      refillHistory: options.refillHistory ?? true,
    };
    this.#log = options.logger;
    this.#reporter = new SourceReporter(hub, 'outbox', options.logger);
  }

  /** True while this node holds the relay lock. */
  get isRelaying(): boolean {
    return this.#holding;
  }

  /** Starts trying to become the relay; resolves after the first attempt. */
  async start(): Promise<void> {
    await this.#attempt();
  }

  /** Moves every committed row not yet in the log; concurrent calls share one pass. */
  drain(): Promise<void> {
    if (this.#draining !== undefined) {
      this.#again = true;
      return this.#draining;
    }
    this.#draining = this.#drainLoop().finally(() => {
      this.#draining = undefined;
    });
    return this.#draining;
  }

  /** Deletes delivered rows older than the retention, in batches. Returns how many. */
  async cleanup(): Promise<number> {
    const client = this.#client;
    if (client === undefined || !this.#holding) return 0;
    let total = 0;
    for (;;) {
      const result = await client.query(
        `DELETE FROM ${this.#schema}.herald_outbox WHERE id IN (
           SELECT o.id FROM ${this.#schema}.herald_outbox o, ${this.#schema}.herald_outbox_cursor c
           WHERE c.name = 'relay' AND o.seq <= c.last_seq AND o.created_at < now() - make_interval(secs => $1::double precision / 1000)
           LIMIT ${CLEANUP_BATCH})`,
        [this.#options.retentionMs],
      );
      total += result.rowCount ?? 0;
      if ((result.rowCount ?? 0) < CLEANUP_BATCH) return total;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    await this.#draining?.catch(() => undefined);
    this.#reporter.stop();
    await this.#reset();
  }

  async #attempt(): Promise<void> {
    if (this.#closed || this.#client !== undefined || this.#connecting) return;
    try {
      await this.#connectAndLock();
    } catch (error) {
      this.#log?.warn({ err: error }, 'outbox relay: cannot reach Postgres; retrying');
      await this.#reset();
    }
    if (!this.#holding && !this.#closed) {
      this.#retry = setTimeout(() => void this.#attempt(), this.#options.lockRetryMs);
      this.#retry.unref();
    }
  }

  async #connectAndLock(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#options.url, application_name: 'herald-relay' });
    client.on('error', (error) => {
      this.#log?.warn({ err: error }, 'outbox relay: lost its Postgres connection');
      void this.#reset().then(() => this.#attempt());
    });
    // The client stays private until it holds the lock: ending a pg client in the
    // middle of connect() leaves connect() pending forever, so close() must not.
    this.#connecting = true;
    let row: { schema: string | null; locked: boolean | null; installed: boolean | null };
    try {
      await client.connect();
      // The schema is read once, here; from then on every query names it, so what
      // the relay reads cannot depend on what else the search_path holds.
      const { rows } = await client.query<{ schema: string | null; locked: boolean | null; installed: boolean | null }>(
        `SELECT current_schema() AS schema,
                pg_try_advisory_lock(hashtext(current_schema() || '.herald_outbox.relay')) AS locked,
                to_regclass(quote_ident(current_schema()) || '.herald_outbox') IS NOT NULL AS installed`,
      );
      row = rows[0]!;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    } finally {
      this.#connecting = false;
    }
    const { schema, locked, installed } = row;
    if (schema === null) {
      // Nothing to relay until the schema exists; #attempt retries.
      this.#log?.warn('outbox relay: the search_path of the Postgres URL names no existing schema; retrying');
      await client.end().catch(() => undefined);
      return;
    }
    // Not the relay, or closed meanwhile: ending the session releases any lock it took.
    if (locked !== true || this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    this.#schema = quoteIdentifier(schema);
    if (installed !== true) {
      this.#log?.warn({ schema }, 'outbox relay: herald_outbox does not exist in this schema; run `herald pg outbox install`');
    } else if (this.#options.refillHistory) {
      // Before any new row: the refilled history comes first, in commit order.
      const restored = await refillMemoryLog(client, this.#schema, this.#hub, this.#log);
      if (restored > 0) this.#log?.info({ schema, events: restored }, 'outbox relay: refilled the in-memory history from the outbox');
    }
    this.#holding = true;
    this.#log?.info({ schema }, 'outbox relay: this node relays the outbox');
    client.on('notification', () => void this.drain().catch(() => undefined));
    await client.query(`LISTEN ${quoteIdentifier(`herald_outbox.${schema}`)}`);
    this.#timers.push(setInterval(() => void this.drain().catch((error: unknown) => this.#reportDrainFailure(error)), this.#options.pollIntervalMs));
    this.#timers.push(
      setInterval(() => void this.cleanup().catch((e: unknown) => this.#log?.warn({ err: e }, 'outbox cleanup failed')), this.#options.cleanupIntervalMs),
    );
    for (const timer of this.#timers) timer.unref();
    await this.drain().catch((error: unknown) => this.#reportDrainFailure(error));
  }

  // Once per run of failures, not per poll: a missing table or an absent log would
  // otherwise print every second.
  #reportDrainFailure(error: unknown): void {
    if (this.#drainFailing) return;
    this.#drainFailing = true;
    this.#log?.warn({ err: error }, 'outbox relay: moving rows failed; retrying on every poll');
  }

  async #reset(): Promise<void> {
    this.#holding = false;
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  async #drainLoop(): Promise<void> {
    do {
      this.#again = false;
      while (await this.#step()) {
        // A full batch: there may be more.
      }
    } while (this.#again && !this.#closed);
  }

  // One batch: read rows after the cursor, publish them, advance the cursor.
  async #step(): Promise<boolean> {
    const client = this.#client;
    if (client === undefined || !this.#holding || this.#closed) return false;
    const { rows } = await client.query<OutboxRow>(
      `SELECT o.id::text AS id, o.seq::text AS seq, o.topic, o.type, o.data
       FROM ${this.#schema}.herald_outbox o, ${this.#schema}.herald_outbox_cursor c
       WHERE c.name = 'relay' AND o.seq > c.last_seq
       ORDER BY o.seq LIMIT $1`,
      [this.#options.batchSize],
    );
    if (rows.length === 0) return false;
    const events: PublishInput[] = [];
    for (const row of rows) {
      const event: PublishInput = { topic: row.topic, type: row.type, data: row.data, id: `outbox-${row.id}` };
      try {
        // Checked row by row first: `publish` takes a batch all or nothing, and one
        // bad row must not hold back the rows after it.
        toDraft(event, this.#hub.options.maxEventBytes);
        events.push(event);
      } catch (error) {
        // An invalid row can never be published; record why on the row and move on.
        this.#reporter.malformed(error);
        await client.query(`UPDATE ${this.#schema}.herald_outbox SET error = $2 WHERE id = $1`, [row.id, (error as Error).message]);
      }
    }
    if (events.length > 0) {
      try {
        await this.#hub.publish(events);
      } catch (error) {
        // The log is away: keep the cursor, so these rows go out when it is back.
        if (error instanceof HeraldError) this.#reporter.failed(error);
        throw error;
      }
      this.#reporter.published(events.length);
    }
    this.#drainFailing = false;
    await client.query(`UPDATE ${this.#schema}.herald_outbox_cursor SET last_seq = $1 WHERE name = 'relay'`, [rows[rows.length - 1]!.seq]);
    return rows.length === this.#options.batchSize;
  }
}
