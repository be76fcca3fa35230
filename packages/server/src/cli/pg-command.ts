import type { Command } from 'commander';
import pg from 'pg';
import { assertIdentifier, captureDropSql, captureInstallSql, OUTBOX_INSTALL_SQL, OUTBOX_UNINSTALL_SQL, type CaptureTable } from '../sources/pg-sql.js';
import { ConfigError } from './config-error.js';
import { collect } from './repeatable.js';

/** Where `herald pg` commands connect: --postgres, else DATABASE_URL. */
function databaseUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const url = flag ?? env['DATABASE_URL'];
  if (url === undefined || url === '') throw new Error('name the database with --postgres postgres://... or DATABASE_URL');
  return url;
}

/**
 * Runs SQL in one transaction, or prints it. Resolves with the schema it ran in
 * (the first of the connection's search_path, where the outbox SQL installs),
 * or undefined when it printed.
 */
async function applySql(sql: string, options: { url?: string | undefined; print: boolean; env: NodeJS.ProcessEnv }): Promise<string | undefined> {
  if (options.print) {
    process.stdout.write(`BEGIN;\n${sql.trim()}\nCOMMIT;\n`);
    return undefined;
  }
  const client = new pg.Client({ connectionString: databaseUrl(options.url, options.env), application_name: 'herald-cli' });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(sql);
    const { rows } = await client.query<{ schema: string | null }>('SELECT current_schema() AS schema');
    await client.query('COMMIT');
    return rows[0]?.schema ?? undefined;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

/** `--table sessions` or `--table sessions:id` (key column), with `--key` as the default key for every table. */
function captureTables(tables: readonly string[], key: string | undefined): CaptureTable[] {
  if (tables.length === 0) throw new Error('name at least one --table');
  return tables.map((spec) => {
    const [table, own] = spec.split(':') as [string, string | undefined];
    assertIdentifier(table, 'table');
    const column = own ?? key;
    return column === undefined ? { table } : { table, key: column };
  });
}

/** SQL of `herald pg triggers`: the outbox (if missing) plus a capture trigger per table, or their removal. */
function triggersSql(tables: CaptureTable[], drop: boolean): string {
  return drop ? captureDropSql(tables) : `${OUTBOX_INSTALL_SQL}\n${captureInstallSql(tables)}`;
}

/** Adds `herald pg outbox install|uninstall` and `herald pg triggers` to the command line. */
export function registerPgCommands(program: Command): void {
  const pgCommand = program.command('pg').description('Postgres sources: the outbox and change-capture triggers');
  const outbox = pgCommand.command('outbox').description('the transactional outbox');
  outbox
    .command('install')
    .description('create herald_outbox and herald_publish(topic, type, data) (idempotent)')
    .option('--postgres <url>', 'database; env DATABASE_URL')
    .option('--print', 'print the SQL instead of running it')
    .action(async (flags: { postgres?: string; print?: boolean }) => {
      const schema = await applySql(OUTBOX_INSTALL_SQL, { url: flags.postgres, print: flags.print === true, env: process.env });
      if (schema !== undefined) process.stderr.write(`herald: outbox installed in schema ${JSON.stringify(schema)}\n`);
    });
  outbox
    .command('uninstall')
    .description('drop the outbox, its function and its capture users')
    .option('--postgres <url>', 'database; env DATABASE_URL')
    .option('--print', 'print the SQL instead of running it')
    .action(async (flags: { postgres?: string; print?: boolean }) => {
      const schema = await applySql(OUTBOX_UNINSTALL_SQL, { url: flags.postgres, print: flags.print === true, env: process.env });
      if (schema !== undefined) process.stderr.write(`herald: outbox uninstalled from schema ${JSON.stringify(schema)}\n`);
    });
  pgCommand
    .command('triggers')
    .description('install (or --drop) a trigger per table that publishes every row change through the outbox')
    .option('--table <name[:key]>', 'table to capture, optionally with its key column; repeatable', collect)
    .option('--key <column>', 'key column for every table: publish each change once, to <table>/<key> (subscribe to <table>/** for the whole table)')
    .option('--drop', 'remove the triggers instead')
    .option('--postgres <url>', 'database; env DATABASE_URL')
    .option('--print', 'print the SQL instead of running it')
    .action(async (flags: { table?: string[]; key?: string; drop?: boolean; postgres?: string; print?: boolean }) => {
      let tables;
      try {
        tables = captureTables(flags.table ?? [], flags.key);
      } catch (error) {
        throw new ConfigError((error as Error).message);
      }
      const schema = await applySql(triggersSql(tables, flags.drop === true), { url: flags.postgres, print: flags.print === true, env: process.env });
      if (schema !== undefined) {
        const what = flags.drop === true ? 'dropped' : `installed (outbox in schema ${JSON.stringify(schema)})`;
        process.stderr.write(`herald: triggers ${what} on ${tables.map((t) => t.table).join(', ')}\n`);
      }
    });
}
