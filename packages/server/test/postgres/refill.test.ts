import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { OUTBOX_INSTALL_SQL, OutboxRelay, type HubOptions } from '../../src/index.js';
import { openSse, type Message, type SseSubscriber } from '../helpers/clients.js';
import { publish, startHub, waitUntil, type RunningHub } from '../helpers/hub.js';
import { createTestSchema, postgresSkipReason, type TestSchema } from '../helpers/postgres.js';
import { startServe, stopServe, type ServeProcess } from '../helpers/serve.js';

// A hub with the in-memory log and --postgres refills its history from the outbox
// when it starts, so a client resuming from an `outbox-…` id across a restart gets
// exactly what it missed instead of a reset.

const skip = await postgresSkipReason();

/** Everything that afterEach releases, whatever the test did (an open EventSource keeps reconnecting). */
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function schema(): Promise<TestSchema> {
  const s = await createTestSchema();
  cleanups.push(() => s.drop());
  await s.query(OUTBOX_INSTALL_SQL);
  return s;
}

async function subscribe(url: string, topics: string[], lastEventId?: string): Promise<SseSubscriber> {
  const subscriber = await openSse(url, topics, lastEventId === undefined ? {} : { lastEventId });
  cleanups.push(async () => subscriber.close());
  return subscriber;
}

/** `herald serve` on the schema, without the settings the test process may carry. */
async function serveOn(s: TestSchema, extra: string[] = []): Promise<ServeProcess> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'REDIS_URL' && key !== 'DATABASE_URL' && !key.startsWith('HERALD_')));
  const node = await startServe(['--no-demo', '--sse-retry', '50', '--postgres', s.url, '--pg-poll-interval', '100', ...extra], env);
  cleanups.push(() => stopServe(node));
  return node;
}

/** An in-process hub whose relay reads the schema; the relay has started (and refilled) before the hub takes clients. */
async function relayHub(s: TestSchema, options: HubOptions = {}): Promise<RunningHub> {
  const running = await startHub(options);
  const relay = new OutboxRelay(running.hub, { url: s.url, pollIntervalMs: 100, lockRetryMs: 200 });
  running.hub.own(relay);
  cleanups.push(() => running.close());
  await relay.start();
  assert.equal(relay.isRelaying, true);
  return running;
}

/** `herald_publish` in its own transaction; returns the event id the relay gives it. */
async function outboxPublish(s: TestSchema, topic: string, n: number): Promise<string> {
  const { rows } = await s.query<{ id: string }>(`SELECT herald_publish($1, 'row', jsonb_build_object('n', $2::int))::text AS id`, [topic, n]);
  return `outbox-${rows[0]!.id}`;
}

async function relayedAll(s: TestSchema): Promise<void> {
  await waitUntil(
    async () => {
      const { rows } = await s.query<{ waiting: string }>(
        `SELECT count(*)::text AS waiting FROM herald_outbox o, herald_outbox_cursor c WHERE c.name = 'relay' AND (o.seq IS NULL OR o.seq > c.last_seq)`,
      );
      return rows[0]!.waiting === '0';
    },
    'the relay to move every row',
    10_000,
  );
}

const ids = (events: readonly Message[]): string[] => events.map((e) => e['id'] as string);

describe('in-memory history refilled from the outbox', { skip }, () => {
  it(
    'herald serve restarted: resuming from an outbox id gets exactly the rows after it, once, in order, then live ones; a generated id is reset',
    { timeout: 60_000 },
    async () => {
      const s = await schema();
      const first = await serveOn(s);
      const generated = (await publish(first.url, { topic: 'orders', type: 'http', data: null })).body.ids[0] as string;
      const before: string[] = [];
      for (let n = 1; n <= 2; n++) before.push(await outboxPublish(s, 'orders', n));
      // A row the relay refuses gets its error set; it was never an event, and must not cut the refilled history.
      await s.query(`SELECT herald_publish('orders/*', 'row', 'null')`);
      for (let n = 3; n <= 5; n++) before.push(await outboxPublish(s, 'orders', n));
      const live = await subscribe(first.url, ['orders'], generated);
      await waitUntil(() => live.inbox.events.length >= 5, 'the first node to deliver 5 outbox events');
      assert.deepEqual(ids(live.inbox.events), before);
      await relayedAll(s);
      live.source.close();
      await stopServe(first);

      // While no hub runs: two commits, and a transaction that rolls back.
      const down = [await outboxPublish(s, 'orders', 6), await outboxPublish(s, 'orders', 7)];
      const rolledBack = await s.connect();
      cleanups.push(() => rolledBack.end());
      await rolledBack.query('BEGIN');
      await rolledBack.query(`SELECT herald_publish('orders', 'row', '{"rolled": "back"}')`);
      await rolledBack.query('ROLLBACK');

      const second = await serveOn(s);
      const resumed = await subscribe(second.url, ['orders'], before[2]);
      const fromStart = await subscribe(second.url, ['orders'], before[0]);
      const stale = await subscribe(second.url, ['orders'], generated);
      const after = await outboxPublish(s, 'orders', 8);
      await waitUntil(() => resumed.inbox.events.some((e) => e['id'] === after), 'the live row after the restart');
      await waitUntil(() => fromStart.inbox.events.some((e) => e['id'] === after), 'the live row, from the start');
      assert.deepEqual(ids(resumed.inbox.events), [...before.slice(3), ...down, after], 'exactly the rows after the resume id, once, in commit order');
      assert.deepEqual(resumed.inbox.control('reset'), [], 'no reset');
      assert.deepEqual(ids(fromStart.inbox.events), [...before.slice(1), ...down, after]);
      assert.deepEqual(fromStart.inbox.control('reset'), []);
      assert.deepEqual(
        resumed.inbox.events.map((e) => e['data']),
        [4, 5, 6, 7, 8].map((n) => ({ n })),
      );
      assert.ok(!JSON.stringify(resumed.inbox.messages).includes('rolled'), 'the rolled-back row never appears');
      const reset = await stale.inbox.waitForControl('reset');
      assert.equal(reset['reason'], 'unknown_id', 'an id the previous process generated is not in the outbox: reset as before');
    },
  );

  it('refills only the newest rows within historySize and historyMaxAge, and only into a log that holds nothing yet', { timeout: 60_000 }, async () => {
    const s = await schema();
    const first = await relayHub(s);
    const rows: string[] = [];
    for (let n = 1; n <= 6; n++) rows.push(await outboxPublish(s, 'orders', n));
    await relayedAll(s);
    await first.close();
    // Row 4's transaction started long ago: it is past the history's age, so the refill keeps rows 5 and 6 only.
    await s.query(`UPDATE herald_outbox SET created_at = now() - interval '10 minutes' WHERE id = $1`, [rows[3]!.slice('outbox-'.length)]);

    const second = await relayHub(s, { historySize: 3, historyMaxAge: 60_000 });
    const fromFive = await subscribe(second.url, ['orders'], rows[4]);
    const fromFour = await subscribe(second.url, ['orders'], rows[3]);
    await waitUntil(() => fromFive.inbox.events.length >= 1, 'the refilled row 6');
    assert.deepEqual(ids(fromFive.inbox.events), [rows[5]]);
    const reset = await fromFour.inbox.waitForControl('reset');
    assert.equal(reset['reason'], 'unknown_id');
    assert.deepEqual(ids(fromFour.inbox.events), []);
    const [sixth] = fromFive.inbox.events;
    assert.equal(sixth!['timestamp'], (await createdAt(s, rows[5]!)).toISOString(), "a refilled event keeps the row's time");
    await second.close();

    // A log that already holds an event is not refilled: its history is not the outbox's.
    const third = await startHub();
    cleanups.push(() => third.close());
    await third.hub.publish({ topic: 'orders', type: 'first', data: null });
    const relay = new OutboxRelay(third.hub, { url: s.url, pollIntervalMs: 100 });
    third.hub.own(relay);
    await relay.start();
    const resumed = await subscribe(third.url, ['orders'], rows[4]);
    assert.equal((await resumed.inbox.waitForControl('reset'))['reason'], 'unknown_id');
  });
});

async function createdAt(s: TestSchema, id: string): Promise<Date> {
  const { rows } = await s.query<{ ms: number }>(`SELECT floor(extract(epoch FROM created_at) * 1000)::float8 AS ms FROM herald_outbox WHERE id = $1`, [
    id.slice('outbox-'.length),
  ]);
  return new Date(rows[0]!.ms);
}
