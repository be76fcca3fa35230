import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { OutboxRelay, type HubOptions, type OutboxRelayOptions } from '../../src/index.js';
import { startHub, type RunningHub } from './hub.js';

/** The Postgres the integration tests use. */
export const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Whether Postgres answers. Without it the Postgres suites are skipped with a loud
 * message, unless HERALD_REQUIRE_POSTGRES=1 (as in CI), which makes them fail instead.
 */
export async function postgresSkipReason(): Promise<string | false> {
  const probe = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2000 });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.query('SELECT 1');
    return false;
  } catch (error) {
    const message = `no Postgres answers at ${DATABASE_URL} (${(error as Error).message})`;
    if (process.env['HERALD_REQUIRE_POSTGRES'] === '1') throw new Error(`${message}, and HERALD_REQUIRE_POSTGRES=1`, { cause: error });
    process.stderr.write(`\n*** SKIPPING Postgres integration tests: ${message}. Set DATABASE_URL or start Postgres. ***\n\n`);
    return message;
  } finally {
    await probe.end().catch(() => undefined);
  }
}

/** `url` with `search_path` set to `schema` through the libpq `options` parameter. */
export function withSearchPath(url: string, schema: string): string {
  const options = `options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return `${url}${url.includes('?') ? '&' : '?'}${options}`;
}

/** A fresh schema of its own for one test. */
export interface TestSchema {
  schema: string;
  /** DATABASE_URL whose search_path is the schema, so everything Herald creates and reads lives there. */
  url: string;
  /** Runs SQL on a connection whose search_path is the schema. */
  query<R extends pg.QueryResultRow = any>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  /** A new, connected client on the schema (the caller ends it). */
  connect(): Promise<pg.Client>;
  /** Drops the schema and everything in it, and ends the shared client. */
  drop(): Promise<void>;
}

/** Creates `herald_test_<random>` and returns a handle on it. */
export async function createTestSchema(): Promise<TestSchema> {
  const schema = `herald_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const url = withSearchPath(DATABASE_URL, schema);
  const connect = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };
  const shared = await connect();
  return {
    schema,
    url,
    query: (sql, params) => shared.query(sql, params as unknown[] | undefined),
    connect,
    drop: async () => {
      await shared.end().catch(() => undefined);
      const cleaner = new pg.Client({ connectionString: DATABASE_URL });
      await cleaner.connect();
      try {
        await cleaner.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await cleaner.end();
      }
    },
  };
}

/**
 * A new, connected client on DATABASE_URL whose search_path is `searchPath` (a
 * comma-separated list without spaces, such as `pg_catalog` or `a,b`), as an app
 * session configured some other way than the installer would be. The caller ends it.
 */
export async function connectWithSearchPath(searchPath: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: withSearchPath(DATABASE_URL, searchPath) });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Creates a schema, runs `fn`, and drops the schema whatever happens. */
export async function inSchema(fn: (s: TestSchema) => Promise<void>): Promise<void> {
  const s = await createTestSchema();
  try {
    await fn(s);
  } finally {
    await s.drop();
  }
}

export interface RelayHub {
  running: RunningHub;
  relay: OutboxRelay;
}

/** An in-process hub whose OutboxRelay reads the schema at `url`. */
export async function startRelayHub(url: string, relayOptions: Partial<OutboxRelayOptions> = {}, hubOptions: HubOptions = {}): Promise<RelayHub> {
  const running = await startHub(hubOptions);
  const relay = new OutboxRelay(running.hub, { url, pollIntervalMs: 100, lockRetryMs: 200, ...relayOptions });
  running.hub.own(relay);
  await relay.start();
  assert.equal(relay.isRelaying, true, 'the only relay of a fresh schema holds its lock');
  return { running, relay };
}

/** A TestSchema or a pg.Client. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<pg.QueryResult<any>>;
}

/** `herald_publish` in its own transaction; returns the event id the relay will give it. */
export async function outboxPublish(s: Queryable, topic: string, type: string | null, data: unknown): Promise<string> {
  const { rows } = await s.query('SELECT herald_publish($1, $2, $3::jsonb) AS id', [topic, type, data === undefined ? null : JSON.stringify(data)]);
  return `outbox-${rows[0]!.id}`;
}

/** The ids of the outbox rows in relay (commit) order. */
export async function idsBySeq(s: TestSchema, where = 'true'): Promise<string[]> {
  const { rows } = await s.query<{ id: string }>(`SELECT id::text AS id FROM herald_outbox WHERE ${where} ORDER BY seq`);
  return rows.map((row) => `outbox-${row.id}`);
}

/** Tables, functions and triggers in the schema, sorted. */
export async function schemaObjects(s: TestSchema): Promise<{ tables: string[]; functions: string[]; triggers: string[] }> {
  const tables = await s.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY 1`,
    [s.schema],
  );
  const functions = await s.query<{ name: string }>(
    `SELECT p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 ORDER BY 1`,
    [s.schema],
  );
  const triggers = await s.query<{ name: string }>(
    `SELECT c.relname || '.' || t.tgname AS name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND NOT t.tgisinternal ORDER BY 1`,
    [s.schema],
  );
  return { tables: tables.rows.map((r) => r.name), functions: functions.rows.map((r) => r.name), triggers: triggers.rows.map((r) => r.name) };
}

/** Backends holding the relay's session advisory lock of the schema. */
export async function relayLockHolders(s: TestSchema): Promise<Array<{ pid: number; application: string }>> {
  const { rows } = await s.query<{ pid: number; application: string }>(
    `WITH k AS (SELECT hashtext($1 || '.herald_outbox.relay')::bigint AS key)
     SELECT l.pid, a.application_name AS application
     FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid, k
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND l.classid::bigint = ((k.key >> 32) & 4294967295) AND l.objid::bigint = (k.key & 4294967295)`,
    [s.schema],
  );
  return rows;
}

/** The relay's cursor: the last outbox seq it delivered. */
export async function cursor(s: TestSchema): Promise<string> {
  const { rows } = await s.query<{ last_seq: string }>(`SELECT last_seq::text FROM herald_outbox_cursor WHERE name = 'relay'`);
  return rows[0]!.last_seq;
}

/** The newest outbox seq, or 0 for an empty outbox. */
export async function maxSeq(s: TestSchema): Promise<string> {
  const { rows } = await s.query<{ max: string | null }>('SELECT max(seq)::text AS max FROM herald_outbox');
  return rows[0]!.max ?? '0';
}
