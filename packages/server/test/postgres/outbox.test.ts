// The outbox relay: an event exists exactly when its transaction commits, in commit order,
// once; retention cleanup; invalid rows; a relay that starts early, loses its session or is closed.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { OUTBOX_INSTALL_SQL, OutboxRelay } from '../../src/index.js';
import { assertNoDuplicates, closeSubscribers, ids, sseOpen, waitForId } from '../helpers/clients.js';
import { metric, sleep, startHub, waitUntil } from '../helpers/hub.js';
import { cursor, idsBySeq, inSchema, maxSeq, outboxPublish, postgresSkipReason, relayLockHolders, startRelayHub } from '../helpers/postgres.js';
import { seededRandom, testSeed } from '../helpers/random.js';

const skip = await postgresSkipReason();

describe('Postgres change capture and outbox', { skip }, () => {
  it('closing a relay whose first attempt is still in flight leaves no session holding the lock', { timeout: 60_000 }, async () => {
    await inSchema(async (s) => {
      await s.query(OUTBOX_INSTALL_SQL);
      const running = await startHub();
      const relay = new OutboxRelay(running.hub, { url: s.url, pollIntervalMs: 100 });
      try {
        const started = relay.start();
        await relay.close();
        await started;
        await sleep(300);
        assert.equal(relay.isRelaying, false);
        assert.deepEqual(await relayLockHolders(s), [], 'a closed relay holds no lock');
      } finally {
        await relay.close();
        await running.close();
        for (const { pid } of await relayLockHolders(s)) await s.query('SELECT pg_terminate_backend($1)', [pid]);
      }
    });
  });

  afterEach(closeSubscribers);

  it('outbox: an event exists exactly when its transaction commits; a rolled-back one never does', { timeout: 60_000 }, async () => {
    await inSchema(async (s) => {
      await s.query(OUTBOX_INSTALL_SQL);
      const { running } = await startRelayHub(s.url);
      const rolledBack = await s.connect();
      const pending = await s.connect();
      try {
        const sse = await sseOpen(running.url, ['orders']);
        await rolledBack.query('BEGIN');
        await outboxPublish(rolledBack, 'orders', 'created', { n: 1 });
        await rolledBack.query('ROLLBACK');
        await pending.query('BEGIN');
        const late = await outboxPublish(pending, 'orders', 'created', { n: 2 });
        const first = await outboxPublish(s, 'orders', 'created', { n: 3 });
        await waitForId(sse.inbox, first);
        assert.deepEqual(ids(sse.inbox.events), [first], 'neither the rolled-back nor the open transaction has an event');
        await pending.query('COMMIT');
        const defaults = await outboxPublish(s, 'orders', null, undefined);
        await waitForId(sse.inbox, defaults);
        assert.deepEqual(ids(sse.inbox.events), [first, late, defaults], 'the late commit arrives after the earlier one, in commit order');
        assert.deepEqual(
          sse.inbox.events.map((e) => [e['type'], e['data']]),
          [
            ['created', { n: 3 }],
            ['created', { n: 2 }],
            ['message', null],
          ],
        );
        const { rows } = await s.query<{ count: string }>('SELECT count(*) AS count FROM herald_outbox');
        assert.equal(rows[0]!.count, '3', 'the rolled-back row does not exist');
        sse.close();
      } finally {
        await rolledBack.end();
        await pending.end();
        await running.close();
      }
    });
  });

  it('outbox: concurrent transactions committing out of id order are delivered once each, in commit order', { timeout: 60_000 }, async () => {
    const seed = testSeed();
    const random = seededRandom(seed);
    await inSchema(async (s) => {
      await s.query(OUTBOX_INSTALL_SQL);
      const { running } = await startRelayHub(s.url);
      const clients = await Promise.all(Array.from({ length: 20 }, () => s.connect()));
      try {
        const sse = await sseOpen(running.url, ['orders']);
        // Serialized commits in a shuffled order: the commit order is the order the COMMITs returned.
        const mine: string[][] = clients.map(() => []);
        for (const c of clients) await c.query('BEGIN');
        for (let k = 0; k < 2; k++) {
          for (const [i, c] of clients.entries()) mine[i]!.push(await outboxPublish(c, 'orders', 'created', { client: i, k }));
        }
        let order: number[];
        do {
          order = clients.map((_, i) => i).sort(() => random() - 0.5);
        } while (order.every((v, i) => v === i));
        const committed: number[] = [];
        for (const i of order) {
          await clients[i]!.query('COMMIT');
          committed.push(i);
          await sleep(Math.floor(random() * 12));
        }
        const expected = committed.flatMap((i) => mine[i]!);
        const byId = [...expected].sort((a, b) => Number(a.slice(7)) - Number(b.slice(7)));
        assert.notDeepEqual(expected, byId, 'the commit order differs from the id order');
        await sse.inbox.waitForEvents(expected.length, 15000);
        assert.deepEqual(ids(sse.inbox.events), expected, `seed ${seed}: delivery order is commit order`);

        // Concurrent commits: every transaction's events arrive once, together and in its own order.
        const transactions: string[][] = [];
        for (let round = 0; round < 5; round++) {
          const batch: string[][] = clients.map(() => []);
          for (const c of clients) await c.query('BEGIN');
          for (let k = 0; k < 3; k++) {
            for (const [i, c] of clients.entries())
              if (k === 0 || random() < 0.5) batch[i]!.push(await outboxPublish(c, 'orders', 'round', { round, client: i, k }));
          }
          await Promise.all(
            clients
              .map((c, i) => ({ c, i }))
              .sort(() => random() - 0.5)
              .map(async ({ c }, n) => {
                if (n % 3 === 0) await sleep(Math.floor(random() * 5));
                await c.query('COMMIT');
              }),
          );
          transactions.push(...batch);
        }
        const all = [...expected, ...transactions.flat()];
        await sse.inbox.waitForEvents(all.length, 15000);
        await waitForId(sse.inbox, await outboxPublish(s, 'orders', 'end', null));
        const delivered = ids(sse.inbox.events).slice(0, -1);
        assertNoDuplicates(delivered, `seed ${seed}`);
        assert.deepEqual([...delivered].sort(), [...all].sort(), `seed ${seed}: every committed event arrives`);
        assert.deepEqual(delivered, (await idsBySeq(s)).slice(0, -1), `seed ${seed}: delivery follows the commit sequence`);
        for (const tx of transactions) {
          const at = delivered.indexOf(tx[0]!);
          assert.deepEqual(delivered.slice(at, at + tx.length), tx, `seed ${seed}: a transaction's events arrive together, in order`);
        }
        sse.close();
      } finally {
        await Promise.all(clients.map((c) => c.end()));
        await running.close();
      }
    });
  });

  it('retention cleanup removes old delivered rows only', { timeout: 60_000 }, async () => {
    await inSchema(async (s) => {
      await s.query(OUTBOX_INSTALL_SQL);
      // Only NOTIFY wakes this relay (no polling, no cleanup timer), so the cursor stays where the test puts it.
      const { running, relay } = await startRelayHub(s.url, { pollIntervalMs: 3_600_000, cleanupIntervalMs: 3_600_000 });
      try {
        // More than one cleanup batch (1,000 rows) of old rows.
        await s.query(`SELECT herald_publish('old', 'row', jsonb_build_object('n', n)) FROM generate_series(1, 2500) AS n`);
        await s.query(`SELECT herald_publish('young', 'row', jsonb_build_object('n', n)) FROM generate_series(1, 5) AS n`);
        await s.query(`SELECT herald_publish('undelivered', 'row', jsonb_build_object('n', n)) FROM generate_series(1, 3) AS n`);
        await waitUntil(async () => (await cursor(s)) === (await maxSeq(s)), 'the relay to deliver every row', 15000);
        await s.query(`UPDATE herald_outbox SET created_at = now() - interval '8 days' WHERE topic IN ('old', 'undelivered')`);
        await s.query(`UPDATE herald_outbox SET created_at = now() - interval '6 days' WHERE topic = 'young'`);
        // As if the relay had not delivered the last rows yet.
        await s.query(`UPDATE herald_outbox_cursor SET last_seq = (SELECT max(seq) FROM herald_outbox WHERE topic <> 'undelivered') WHERE name = 'relay'`);
        const removed = await relay.cleanup();
        assert.equal(removed, 2500);
        const { rows } = await s.query<{ topic: string; count: string }>(
          'SELECT topic, count(*)::text AS count FROM herald_outbox GROUP BY topic ORDER BY topic',
        );
        assert.deepEqual(
          rows.map((r) => [r.topic, r.count]),
          [
            ['undelivered', '3'],
            ['young', '5'],
          ],
        );
        assert.equal(await relay.cleanup(), 0, 'nothing more to remove');
      } finally {
        await running.close();
      }
    });
  });

  it('an invalid outbox row gets its error set and does not stop the relay', { timeout: 60_000 }, async () => {
    await inSchema(async (s) => {
      await s.query(OUTBOX_INSTALL_SQL);
      const { running } = await startRelayHub(s.url, {}, { maxEventBytes: 1024 });
      try {
        const sse = await sseOpen(running.url, ['jobs']);
        const first = await outboxPublish(s, 'jobs', 'queued', { n: 1 });
        const badTopic = await outboxPublish(s, 'a//b', 'queued', { n: 2 });
        const reserved = await outboxPublish(s, 'jobs', 'connected', { n: 3 });
        // Invalid and valid rows in one transaction, so in one relay batch.
        const { rows: mixed } = await s.query<{ id: string }>(
          `SELECT herald_publish(topic, type, data)::text AS id FROM (VALUES
             (1, 'jobs', 'bad type', '{"n":4}'::jsonb),
             (2, 'jobs', 'queued', jsonb_build_object('n', 5, 'pad', repeat('x', 2000))),
             (3, 'jobs', 'queued', '{"n":6}'::jsonb)) AS v(k, topic, type, data) ORDER BY k`,
        );
        const last = `outbox-${mixed[2]!.id}`;
        await waitForId(sse.inbox, last);
        assert.deepEqual(ids(sse.inbox.events), [first, last]);
        const { rows } = await s.query<{ id: string; error: string | null }>('SELECT id::text, error FROM herald_outbox ORDER BY seq');
        const errors = Object.fromEntries(rows.map((r) => [`outbox-${r.id}`, r.error]));
        assert.equal(errors[first], null);
        assert.equal(errors[last], null);
        assert.match(errors[badTopic] ?? '', /topic/i);
        assert.match(errors[reserved] ?? '', /type|reserved|control/i);
        assert.match(errors[`outbox-${mixed[0]!.id}`] ?? '', /type/i);
        assert.match(errors[`outbox-${mixed[1]!.id}`] ?? '', /large|size|bytes/i);
        assert.equal(await cursor(s), await maxSeq(s), 'the cursor moved past the invalid rows');
        await waitUntil(
          async () => (await metric(running.url, 'herald_source_messages_total{source="outbox",result="malformed"}')) === 4,
          'four malformed rows counted',
        );
        assert.equal(await metric(running.url, 'herald_source_messages_total{source="outbox",result="published"}'), 2);
        sse.close();
      } finally {
        await running.close();
      }
    });
  });

  it('a relay started before the outbox is installed relays it once installed', { timeout: 60_000 }, async () => {
    await inSchema(async (s) => {
      const { running } = await startRelayHub(s.url);
      try {
        const sse = await sseOpen(running.url, ['orders']);
        await s.query(OUTBOX_INSTALL_SQL);
        const id = await outboxPublish(s, 'orders', 'created', { n: 1 });
        await waitForId(sse.inbox, id);
        assert.deepEqual(ids(sse.inbox.events), [id]);
      } finally {
        await running.close();
      }
    });
  });

  it('the relay reconnects after losing its Postgres session and delivers what was written meanwhile', { timeout: 60_000 }, async () => {
    await inSchema(async (s) => {
      await s.query(OUTBOX_INSTALL_SQL);
      const { running, relay } = await startRelayHub(s.url);
      try {
        const sse = await sseOpen(running.url, ['orders']);
        const before = await outboxPublish(s, 'orders', 'created', { n: 1 });
        await waitForId(sse.inbox, before);
        const [holder] = await relayLockHolders(s);
        assert.ok(holder !== undefined, 'the relay holds the lock');
        // As a network loss or a DBA would: end the relay's session.
        await s.query('SELECT pg_terminate_backend($1)', [holder.pid]);
        const meanwhile: string[] = [];
        for (let n = 2; n < 12; n++) meanwhile.push(await outboxPublish(s, 'orders', 'created', { n }));
        await waitUntil(
          async () => {
            const now = await relayLockHolders(s);
            return now.length === 1 && now[0]!.pid !== holder.pid;
          },
          'the relay to take its lock again',
          15000,
        );
        const after = await outboxPublish(s, 'orders', 'created', { n: 12 });
        await waitForId(sse.inbox, after, 15000);
        assert.equal(relay.isRelaying, true);
        assert.deepEqual(ids(sse.inbox.events), [before, ...meanwhile, after]);
      } finally {
        await running.close();
      }
    });
  });
});
