import { randomBytes } from 'node:crypto';
import pg from 'pg';

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
    if (process.env['HERALD_REQUIRE_POSTGRES'] === '1') throw new Error(`${message}, and HERALD_REQUIRE_POSTGRES=1`);
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
