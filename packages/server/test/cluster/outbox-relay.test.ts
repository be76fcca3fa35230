// The outbox relayed by hub nodes sharing a Redis log: a relay killed mid-batch and
// restarted, and two nodes of which only the lock holder relays.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type pg from 'pg';
import { OUTBOX_INSTALL_SQL, RedisBroker } from '../../src/index.js';
import { assertNoDuplicates, closeSubscribers, ids, sseOpen, waitForId } from '../helpers/clients.js';
import { metric, sleep, startHub, waitUntil } from '../helpers/hub.js';
import { cursor, idsBySeq, inSchema, maxSeq, outboxPublish, postgresSkipReason, relayLockHolders } from '../helpers/postgres.js';
import { seededRandom, testSeed } from '../helpers/random.js';
import { dropPrefix, REDIS_URL, redisSkipReason, testPrefix } from '../helpers/redis.js';
import { startNode, stopNode, type ServeProcess } from '../helpers/serve.js';

const skip = await postgresSkipReason();
// The crash and two-node tests keep the log in Redis so it outlives hub processes.
const redisSkip = skip !== false ? skip : await redisSkipReason();

/** Writes `herald_publish(topic, 'row', {n})` rows one transaction each, n = 0, 1, 2, ... until stopped. */
class Writer {
  written = 0;
  #running = true;
  readonly #done: Promise<void>;

  constructor(client: pg.Client, topic: string, random: () => number) {
    this.#done = (async () => {
      while (this.#running) {
        await client.query(`SELECT herald_publish($1, 'row', jsonb_build_object('n', $2::int))`, [topic, this.written]);
        this.written++;
        if (random() < 0.5) await sleep(Math.floor(random() * 4));
      }
    })();
  }

  async rowsMore(count: number, what: string): Promise<void> {
    const target = this.written + count;
    await waitUntil(() => this.written >= target, what, 15000);
  }

  async stop(): Promise<number> {
    this.#running = false;
    await this.#done;
    return this.written;
  }
}

describe('Postgres outbox with a Redis log: crashes and two nodes', { skip: redisSkip }, () => {
  afterEach(closeSubscribers);

  it('a hub killed mid-relay, with rows written while it is down, ends with every event exactly once, in order', { timeout: 60_000 }, async () => {
    const seed = testSeed();
    const random = seededRandom(seed);
    const prefix = testPrefix();
    await inSchema(async (s) => {
      await s.query(OUTBOX_INSTALL_SQL);
      // The subscriber sits on a node without the relay, so it sees the log across every relay crash.
      const observer = await startHub({ broker: new RedisBroker({ url: REDIS_URL, prefix, blockMs: 500 }) });
      const writerClient = await s.connect();
      const args = ['--postgres', s.url, '--redis', REDIS_URL, '--redis-prefix', prefix, '--pg-poll-interval', '100ms'];
      let node: ServeProcess | undefined;
      let writer: Writer | undefined;
      try {
        const sse = await sseOpen(observer.url, ['feed']);
        writer = new Writer(writerClient, 'feed', random);
        for (let crash = 0; crash < 3; crash++) {
          const backlog = writer.written;
          node = await startNode(args);
          // The new relay delivers what was written while no hub ran, and keeps up.
          await waitUntil(() => sse.inbox.events.length >= backlog + 15, `seed ${seed}: relaying after start ${crash}`, 15000);
          await sleep(Math.floor(random() * 40));
          await stopNode(node, 'SIGKILL');
          await writer.rowsMore(25, 'rows written while no hub runs');
        }
        node = await startNode(args);
        await writer.rowsMore(25, 'rows after the last restart');
        const total = await writer.stop();
        await sse.inbox.waitForEvents(total, 20000).catch((error: Error) => {
          throw new Error(`seed ${seed}: ${error.message}`);
        });
        await sleep(200);
        const delivered = sse.inbox.events;
        assertNoDuplicates(ids(delivered), `seed ${seed}`);
        assert.deepEqual(
          delivered.map((e) => e['data'].n),
          Array.from({ length: total }, (_, n) => n),
          `seed ${seed}: every row exactly once, in commit order`,
        );
        assert.deepEqual(ids(delivered), await idsBySeq(s), 'ids are outbox-<row id>');

        // The dedupe, proven: stop cleanly, move the cursor back, restart. The relay
        // publishes those rows again and the log recognises every one.
        assert.equal(await stopNode(node, 'SIGTERM'), 0);
        const seqs = (await s.query<{ seq: string }>('SELECT seq::text FROM herald_outbox ORDER BY seq')).rows.map((r) => r.seq);
        const rewindTo = seqs[Math.floor(seqs.length / 2)]!;
        const again = seqs.filter((seq) => BigInt(seq) > BigInt(rewindTo)).length;
        await s.query(`UPDATE herald_outbox_cursor SET last_seq = $1 WHERE name = 'relay'`, [rewindTo]);
        node = await startNode(args);
        const marker = await outboxPublish(s, 'feed', 'marker', null);
        await waitForId(sse.inbox, marker);
        await waitUntil(
          async () => (await metric(node!.url, 'herald_source_messages_total{source="outbox",result="published"}')) >= again + 1,
          'the relay to publish the rewound rows again',
        );
        await sleep(200);
        assert.deepEqual(ids(sse.inbox.events), [...ids(delivered), marker], 'republished rows are not delivered again');
        assert.equal(await cursor(s), await maxSeq(s));
        sse.close();
      } finally {
        await writer?.stop().catch(() => undefined);
        if (node !== undefined) await stopNode(node);
        await writerClient.end();
        await observer.close();
        await dropPrefix(prefix);
      }
    });
  });

  it('two hub nodes relay one outbox without duplicates; the other takes over when the holder dies', { timeout: 60_000 }, async () => {
    const seed = testSeed();
    const random = seededRandom(seed);
    const prefix = testPrefix();
    await inSchema(async (s) => {
      await s.query(OUTBOX_INSTALL_SQL);
      const writerClient = await s.connect();
      const args = ['--postgres', s.url, '--redis', REDIS_URL, '--redis-prefix', prefix, '--pg-poll-interval', '100ms'];
      const nodes: ServeProcess[] = [];
      let writer: Writer | undefined;
      try {
        const a = await startNode(args);
        nodes.push(a);
        let holders = await relayLockHolders(s);
        assert.equal(holders.length, 1);
        const pidA = holders[0]!.pid;
        assert.equal(holders[0]!.application, 'herald-relay');
        const b = await startNode(args);
        nodes.push(b);
        const sse = await sseOpen(b.url, ['feed']);
        writer = new Writer(writerClient, 'feed', random);
        await waitUntil(() => sse.inbox.events.length >= 60, 'events relayed by the first node', 15000);
        holders = await relayLockHolders(s);
        assert.deepEqual(
          holders.map((h) => h.pid),
          [pidA],
          'only the first node holds the relay lock',
        );
        const published = 'herald_source_messages_total{source="outbox",result="published"}';
        assert.ok((await metric(a.url, published)) > 0, 'the holder relays');
        assert.equal(await metric(b.url, published), 0, 'the other node does not');

        await stopNode(a, 'SIGKILL');
        await waitUntil(
          async () => {
            const now = await relayLockHolders(s);
            return now.length === 1 && now[0]!.pid !== pidA;
          },
          'the second node to take the relay lock',
          15000,
        );
        await writer.rowsMore(40, 'rows after the takeover');
        const total = await writer.stop();
        await sse.inbox.waitForEvents(total, 20000).catch((error: Error) => {
          throw new Error(`seed ${seed}: ${error.message}`);
        });
        await sleep(200);
        assert.ok((await metric(b.url, published)) > 0, 'the second node relays now');
        assertNoDuplicates(ids(sse.inbox.events), `seed ${seed}`);
        assert.deepEqual(
          sse.inbox.events.map((e) => e['data'].n),
          Array.from({ length: total }, (_, n) => n),
          `seed ${seed}: every row exactly once, in commit order`,
        );
        sse.close();
      } finally {
        await writer?.stop().catch(() => undefined);
        await Promise.all(nodes.map((node) => stopNode(node)));
        await writerClient.end();
        await dropPrefix(prefix);
      }
    });
  });
});
