// Several `herald serve` nodes on one Redis log: events published on any node reach the
// subscribers of all in one order, clients of a killed node resume elsewhere, and a
// publisher id is deduped across nodes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openSse, WsSubscriber } from '../helpers/clients.js';
import { publish, sleep, waitUntil } from '../helpers/hub.js';
import { dropPrefix, REDIS_URL, redisSkipReason, testPrefix } from '../helpers/redis.js';
import { ResumingWsClient } from '../helpers/resuming-ws.js';
import { startServe, stopServe, type ServeProcess } from '../helpers/serve.js';

const skip = await redisSkipReason();

/** Starts `herald serve --redis` as its own process. */
function startNode(prefix: string, extra: string[] = []): Promise<ServeProcess> {
  return startServe(['--redis', REDIS_URL, '--redis-prefix', prefix, '--sse-retry', '50', '--no-demo', ...extra]);
}

describe('Redis scale-out', { skip }, () => {
  it('three nodes on one Redis deliver events published on any node to subscribers on all, in the same order', async () => {
    const prefix = testPrefix();
    const nodes = await Promise.all([startNode(prefix), startNode(prefix), startNode(prefix)]);
    try {
      const [a, b, c] = nodes as [ServeProcess, ServeProcess, ServeProcess];
      const subscribers = [
        await openSse(a.url, ['league/**']),
        await WsSubscriber.open(b.url, '?topic=league/**'),
        await openSse(c.url, ['league/**']),
        await WsSubscriber.open(a.url, '?topic=league/**'),
      ];
      const ids: string[] = [];
      const publishers = nodes.map(async (node, n) => {
        for (let i = 0; i < 30; i++) {
          const { status, body } = await publish(node.url, { topic: `league/table/${n}`, type: 'results_update', data: { node: n, i } });
          assert.equal(status, 201);
          ids.push(body.ids[0]);
        }
      });
      await Promise.all(publishers);
      for (const subscriber of subscribers) await subscriber.inbox.waitForEvents(90, 10000);
      const orders = subscribers.map((s) => s.inbox.events.map((e) => e['id'] as string));
      for (const order of orders) assert.deepEqual(order, orders[0], 'every subscriber sees the same order');
      assert.deepEqual([...orders[0]!].sort(), [...ids].sort(), 'every published event arrives once');
      assert.ok(
        orders[0]!.every((id) => /^[0-9a-f]{10}-\d+-\d+$/.test(id)),
        'ids are the shared <epoch>-<stream id>',
      );
      for (const subscriber of subscribers) subscriber.close();
    } finally {
      await Promise.all(nodes.map(stopServe));
      await dropPrefix(prefix);
    }
  });

  it('clients of a node killed with SIGKILL resume on another node with every event exactly once, in order', async () => {
    const prefix = testPrefix();
    const nodes = await Promise.all([startNode(prefix), startNode(prefix), startNode(prefix)]);
    const alive = new Set(nodes);
    try {
      const [start] = (await publish(nodes[1]!.url, { topic: 'feed', data: 'start' })).body.ids as string[];
      // Every client starts on the node that will be killed.
      const clients = [0, 1, 2, 3].map(() => {
        const client = new ResumingWsClient(() => [...alive].map((n) => n.url), 'feed');
        client.lastId = start;
        return client;
      });
      for (const client of clients) client.start();
      for (const client of clients) await client.inbox.waitForControl('connected');
      const ids: string[] = [];
      let publishing = true;
      const publisher = (async () => {
        for (let i = 0; publishing && i < 1000; i++) {
          const { body } = await publish(nodes[1]!.url, { topic: 'feed', type: 'tick', data: { i } });
          ids.push(body.ids[0]);
          await sleep(2);
        }
      })();
      await waitUntil(() => ids.length >= 40, 'some events before the kill');
      nodes[0]!.child.kill('SIGKILL');
      alive.delete(nodes[0]!);
      await nodes[0]!.exited;
      await waitUntil(() => ids.length >= 120, 'more events after the kill', 10000);
      publishing = false;
      await publisher;
      for (const client of clients) {
        await client.inbox.waitForEvents(ids.length, 10000);
        await sleep(30);
        client.stop();
        assert.deepEqual(
          client.inbox.events.map((e) => e['id']),
          ids,
          'every event once, in order',
        );
        assert.ok(client.connects >= 2, 'the client moved to another node');
        assert.equal(client.inbox.control('reset').length, 0);
      }
    } finally {
      await Promise.all([...alive].map(stopServe));
      await dropPrefix(prefix);
    }
  });

  it('dedupes a publisher id across nodes', async () => {
    const prefix = testPrefix();
    const nodes = await Promise.all([startNode(prefix), startNode(prefix)]);
    try {
      const sse = await openSse(nodes[0]!.url, ['orders']);
      const [first, second] = await Promise.all(nodes.map((node) => publish(node.url, { topic: 'orders', type: 'created', data: { n: 1 }, id: 'order-77' })));
      assert.deepEqual(first!.body, { ids: ['order-77'] });
      assert.deepEqual(second!.body, { ids: ['order-77'] });
      const marker = await publish(nodes[1]!.url, { topic: 'orders', data: 'marker' });
      await waitUntil(() => sse.inbox.events.some((e) => e['id'] === marker.body.ids[0]), 'the marker');
      assert.deepEqual(
        sse.inbox.events.map((e) => e['id']),
        ['order-77', marker.body.ids[0]],
      );
      sse.close();
    } finally {
      await Promise.all(nodes.map(stopServe));
      await dropPrefix(prefix);
    }
  });
});
