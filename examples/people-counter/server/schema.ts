// The team's four tables, in a schema of the app's own, and Herald's change capture on
// them. The capture is installed with the CLI (`herald pg triggers`), as an operator
// would, so the app's SQL stays free of anything Herald-specific.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const HERALD_BIN = fileURLToPath(new URL('../../../packages/server/bin/herald.js', import.meta.url));

/** The captured tables; each change is published to `<table>/<id>` (`--key id`). */
const TABLES = ['sessions', 'people_movements', 'alert_logs', 'realtime_metrics'] as const;

const TABLES_SQL = `
CREATE TABLE IF NOT EXISTS sessions (
  id text PRIMARY KEY,
  name text NOT NULL,
  capacity integer NOT NULL,
  people_in integer NOT NULL DEFAULT 0,
  people_out integer NOT NULL DEFAULT 0,
  current_count integer NOT NULL DEFAULT 0,
  started_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS people_movements (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_id text NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  direction text NOT NULL CHECK (direction IN ('in', 'out')),
  count integer NOT NULL CHECK (count > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS alert_logs (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_id text NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  level text NOT NULL,
  message text NOT NULL,
  resolved boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  resolved_at timestamptz
);
CREATE TABLE IF NOT EXISTS realtime_metrics (
  id text PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
  session_id text NOT NULL,
  current_count integer NOT NULL DEFAULT 0,
  occupancy_percent integer NOT NULL DEFAULT 0,
  movements_last_minute integer NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);
`;

/** `url` with its search_path set to `schema`, which is how the hub's relay finds its outbox. */
export function withSchema(url: string, schema: string): string {
  const options = `options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return `${url}${url.includes('?') ? '&' : '?'}${options}`;
}

/** Creates the schema and the tables (idempotent), then installs the capture triggers. */
export async function installSchema(databaseUrl: string, schema: string): Promise<void> {
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)}`);
    await admin.query(`SET search_path = ${pg.escapeIdentifier(schema)}`);
    await admin.query(TABLES_SQL);
  } finally {
    await admin.end();
  }
  const tables = TABLES.flatMap((table) => ['--table', table]);
  await runHerald(['pg', 'triggers', ...tables, '--key', 'id', '--postgres', withSchema(databaseUrl, schema)]);
}

/** Drops the schema and everything in it (tests do, after each run). */
export async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  } finally {
    await admin.end();
  }
}

function runHerald(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HERALD_BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`herald ${args.slice(0, 2).join(' ')} failed (${code}): ${stderr}`))));
  });
}
