import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type pg from 'pg';
import { captureInstallSql, OUTBOX_INSTALL_SQL, OutboxRelay } from '../../src/index.js';
import { openSse, type Message, type SseSubscriber } from '../helpers/clients.js';
import { startHub, waitUntil, type RunningHub } from '../helpers/hub.js';
import { connectWithSearchPath, createTestSchema, cursor, postgresSkipReason, withSearchPath, DATABASE_URL, type TestSchema } from '../helpers/postgres.js';
import { runHerald } from '../helpers/serve.js';

// The SQL Herald installs must not depend on the search_path of the sessions that
// write (app roles, poolers and migration tools all set their own): these tests
// write from sessions whose search_path is pg_catalog, or starts with another
// schema that has an outbox of its own.

const skip = await postgresSkipReason();

const T_DDL = 'CREATE TABLE t (id text PRIMARY KEY, v int NOT NULL)';

/** Everything that afterEach releases, whatever the test did. */
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function schema(): Promise<TestSchema> {
  const s = await createTestSchema();
  cleanups.push(() => s.drop());
  return s;
}

async function writer(searchPath: string): Promise<pg.Client> {
  const client = await connectWithSearchPath(searchPath);
  cleanups.push(() => client.end());
  return client;
}

/** An in-process hub whose relay reads the outbox at `url`. */
async function relayHub(url: string): Promise<{ running: RunningHub; relay: OutboxRelay }> {
  const running = await startHub();
  const relay = new OutboxRelay(running.hub, { url, pollIntervalMs: 100, lockRetryMs: 200 });
  running.hub.own(relay);
  cleanups.push(() => running.close());
  await relay.start();
  assert.equal(relay.isRelaying, true);
  return { running, relay };
}

async function subscribe(url: string, topics: string[]): Promise<SseSubscriber> {
  const subscriber = await openSse(url, topics);
  cleanups.push(async () => subscriber.close());
  return subscriber;
}

const summary = (events: readonly Message[]): Array<[string, string]> => events.map((e) => [e['topic'] as string, e['type'] as string]);

async function outboxCount(s: TestSchema): Promise<number> {
  const { rows } = await s.query<{ count: string }>('SELECT count(*)::text AS count FROM herald_outbox');
  return Number(rows[0]!.count);
}

/** Names of the functions in the schema and of the triggers on its tables, sorted. */
async function installed(s: TestSchema): Promise<string[]> {
  const { rows } = await s.query<{ name: string }>(
    `SELECT p.proname AS name FROM pg_proc p WHERE p.pronamespace = $1::regnamespace
     UNION ALL
     SELECT c.relname || '.' || t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     WHERE c.relnamespace = $1::regnamespace AND NOT t.tgisinternal
     UNION ALL
     SELECT relname FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind IN ('r', 'S')
     ORDER BY 1`,
    [s.schema],
  );
  return rows.map((row) => row.name);
}

describe("Postgres SQL whatever the writer's search_path", { skip }, () => {
  it(
    'a writer whose search_path is pg_catalog: its row change reaches the hub, and so does its call of the qualified herald_publish',
    { timeout: 30_000 },
    async () => {
      const a = await schema();
      await a.query(T_DDL);
      await a.query(OUTBOX_INSTALL_SQL + captureInstallSql([{ table: 't', key: 'id' }]));
      const { running } = await relayHub(a.url);
      const sse = await subscribe(running.url, ['t', 't/*', 'orders']);

      const app = await writer('pg_catalog');
      await app.query(`INSERT INTO ${a.schema}.t (id, v) VALUES ('r1', 1)`);
      await app.query('BEGIN');
      await app.query(`SELECT ${a.schema}.herald_publish('orders', 'created', '{"n": 1}'::jsonb)`);
      await app.query('COMMIT');

      // With a key the change is published once, to t/r1.
      const events = await sse.inbox.waitForEvents(2, 10_000);
      assert.deepEqual(summary(events), [
        ['t/r1', 'insert'],
        ['orders', 'created'],
      ]);
      assert.deepEqual(events[0]!['data'].data, { id: 'r1', v: 1 });
      assert.deepEqual(events[1]!['data'], { n: 1 });
    },
  );

  it(
    "with another schema's outbox first on the writer's search_path, a table's rows go only to its own schema's outbox and hub",
    { timeout: 30_000 },
    async () => {
      const a = await schema();
      const b = await schema();
      await a.query(T_DDL);
      await a.query(OUTBOX_INSTALL_SQL + captureInstallSql([{ table: 't' }]));
      await b.query(OUTBOX_INSTALL_SQL);
      const hubA = await relayHub(a.url);
      const hubB = await relayHub(b.url);
      const sseA = await subscribe(hubA.running.url, ['t', 'marker']);
      const sseB = await subscribe(hubB.running.url, ['t', 'marker']);

      const app = await writer(`${b.schema},${a.schema}`);
      await app.query(`INSERT INTO ${a.schema}.t (id, v) VALUES ('r1', 1)`);
      await app.query(`UPDATE ${a.schema}.t SET v = 2`);
      // Each outbox is relayed in commit order: once B's later marker is in, any row of t sent to B would be too.
      await app.query(`SELECT ${a.schema}.herald_publish('marker', 'a', 'null')`);
      await app.query(`SELECT ${b.schema}.herald_publish('marker', 'b', 'null')`);
      await sseA.inbox.waitForEvents(3, 10_000);
      await sseB.inbox.waitForEvents(1, 10_000);

      assert.deepEqual(summary(sseA.inbox.events), [
        ['t', 'insert'],
        ['t', 'update'],
        ['marker', 'a'],
      ]);
      assert.deepEqual(summary(sseB.inbox.events), [['marker', 'b']], "B's hub sees none of A's rows");
      assert.equal(await outboxCount(b), 1, "B's outbox holds its marker only");
      assert.equal(await outboxCount(a), 3);
    },
  );

  it(
    'the relay reads only the schema it resolved: with no outbox there, it leaves the outbox of a later schema on its search_path alone',
    { timeout: 30_000 },
    async () => {
      const a = await schema();
      const b = await schema();
      await b.query(OUTBOX_INSTALL_SQL);
      await b.query(`SELECT herald_publish('orders', 'b', 'null')`);
      const { running } = await relayHub(withSearchPath(DATABASE_URL, `${a.schema},${b.schema}`));
      const sse = await subscribe(running.url, ['orders']);
      // start() has made its first pass: B's row must still wait for B's own relay.
      assert.equal(await cursor(b), '0', "a relay of schema A does not move B's rows");

      await a.query(OUTBOX_INSTALL_SQL);
      await a.query(`SELECT herald_publish('orders', 'a', 'null')`);
      await sse.inbox.waitForEvents(1, 10_000);
      await waitUntil(async () => (await cursor(a)) !== '0', "the relay's cursor in A");
      assert.deepEqual(summary(sse.inbox.events), [['orders', 'a']]);
      assert.equal(await cursor(b), '0');
    },
  );

  it("uninstall removes the first schema's outbox and capture triggers only; the captured table keeps accepting writes", { timeout: 30_000 }, async () => {
    const a = await schema();
    const b = await schema();
    await a.query(T_DDL);
    await a.query(OUTBOX_INSTALL_SQL + captureInstallSql([{ table: 't' }]));
    await b.query(OUTBOX_INSTALL_SQL);
    const inB = await installed(b);
    assert.deepEqual(inB, [
      'herald_outbox',
      'herald_outbox.herald_outbox_sequence',
      'herald_outbox_cursor',
      'herald_outbox_id_seq',
      'herald_outbox_seq',
      'herald_outbox_sequence',
      'herald_publish',
    ]);
    const both = withSearchPath(DATABASE_URL, `${a.schema},${b.schema}`);

    const first = await runHerald(['pg', 'outbox', 'uninstall', '--postgres', both]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, new RegExp(`uninstalled from schema "${a.schema}"`), 'the CLI says which schema it changed');
    assert.deepEqual(await installed(a), ['t'], "A's outbox, function and capture trigger are gone");
    await a.query(`INSERT INTO t (id, v) VALUES ('r1', 1)`);
    // A second uninstall finds nothing in A and must not reach B through the search_path.
    const again = await runHerald(['pg', 'outbox', 'uninstall', '--postgres', both]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await installed(b), inB, "B's outbox is untouched");

    // And nothing is ever installed into a system schema by way of the search_path.
    const catalog = await writer('pg_catalog');
    await assert.rejects(catalog.query(OUTBOX_INSTALL_SQL), /will not install into the system schema pg_catalog/);
  });
});
