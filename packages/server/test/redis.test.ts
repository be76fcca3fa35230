import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisBroker } from '../src/broker/redis.js';
import { RedisBridge } from '../src/sources/redis-bridge.js';
import { openSse, WsSubscriber } from './helpers/clients.js';
import { metric, publish, sleep, startHub, waitUntil, type RunningHub } from './helpers/hub.js';
import { CuttableProxy } from './helpers/proxy.js';
import { dropPrefix, REDIS_URL, redisSkipReason, testPrefix } from './helpers/redis.js';
import { ResumingWsClient } from './helpers/resuming-ws.js';
import { startServe, stopServe, type ServeProcess } from './helpers/serve.js';

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
      assert.ok(orders[0]!.every((id) => /^[0-9a-f]{10}-\d+-\d+$/.test(id)), 'ids are the shared <epoch>-<stream id>');
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
        assert.deepEqual(client.inbox.events.map((e) => e['id']), ids, 'every event once, in order');
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
      const [first, second] = await Promise.all(
        nodes.map((node) => publish(node.url, { topic: 'orders', type: 'created', data: { n: 1 }, id: 'order-77' })),
      );
      assert.deepEqual(first!.body, { ids: ['order-77'] });
      assert.deepEqual(second!.body, { ids: ['order-77'] });
      const marker = await publish(nodes[1]!.url, { topic: 'orders', data: 'marker' });
      await waitUntil(() => sse.inbox.events.some((e) => e['id'] === marker.body.ids[0]), 'the marker');
      assert.deepEqual(sse.inbox.events.map((e) => e['id']), ['order-77', marker.body.ids[0]]);
      sse.close();
    } finally {
      await Promise.all(nodes.map(stopServe));
      await dropPrefix(prefix);
    }
  });
});

describe('Redis outage', { skip }, () => {
  let prefix: string;
  let proxy: CuttableProxy;
  let hub: RunningHub;
  let other: RunningHub;
  before(async () => {
    prefix = testPrefix();
    proxy = await CuttableProxy.start(Number(new URL(REDIS_URL).port || 6379));
    const through = `redis://127.0.0.1:${proxy.port}`;
    hub = await startHub({ broker: new RedisBroker({ url: through, prefix, blockMs: 500, commandTimeoutMs: 500 }) });
    other = await startHub({ broker: new RedisBroker({ url: REDIS_URL, prefix, blockMs: 500 }) });
  });
  after(async () => {
    await hub.close();
    await other.close();
    await proxy.close();
    await dropPrefix(prefix);
  });

  it('answers 503 and not-ready while Redis is away, keeps clients connected, and catches up with nothing lost', async () => {
    const before = (await publish(hub.url, { topic: 'outage', data: 'before' })).body.ids as string[];
    const sse = await openSse(hub.url, ['outage'], { lastEventId: before[0]! });
    const ws = await WsSubscriber.open(hub.url, `?topic=outage&since=${before[0]}`);
    proxy.down();
    await waitUntil(async () => (await fetch(`${hub.url}/readyz`)).status === 503, '/readyz to report not ready');
    const refused = await publish(hub.url, { topic: 'outage', data: 'refused' });
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error.code, 'broker_unavailable');
    // Another node still reaches Redis and publishes during the outage.
    const during: string[] = [];
    for (let i = 0; i < 20; i++) during.push(...((await publish(other.url, { topic: 'outage', data: i })).body.ids as string[]));
    await sleep(300);
    assert.equal(hub.hub.connectionCount, 2, 'clients keep their connections');
    assert.equal(ws.closeCode, undefined);
    proxy.up();
    await waitUntil(async () => (await fetch(`${hub.url}/readyz`)).status === 200, '/readyz to recover', 10000);
    const after = (await publish(hub.url, { topic: 'outage', data: 'after' })).body.ids as string[];
    const expected = [...during, ...after];
    await sse.inbox.waitForEvents(expected.length, 10000);
    await ws.inbox.waitForEvents(expected.length, 10000);
    assert.deepEqual(sse.inbox.events.map((e) => e['id']), expected);
    assert.deepEqual(ws.inbox.events.map((e) => e['id']), expected);
    sse.close();
    ws.close();
  });

  it('sends reset when the log was wiped (new epoch), never silent loss', async () => {
    const [old] = (await publish(other.url, { topic: 'wipe', data: 1 })).body.ids as string[];
    await dropPrefix(prefix);
    await publish(other.url, { topic: 'wipe', data: 2 });
    const sse = await openSse(hub.url, ['wipe'], { lastEventId: old! });
    const reset = await sse.inbox.waitForControl('reset');
    assert.deepEqual([reset['topic'], reset['reason']], ['wipe', 'unknown_id']);
    sse.close();
  });
});

describe('Redis bridge', { skip }, () => {
  let running: RunningHub;
  let bridge: RedisBridge;
  let prefix: string;
  const channel = `team_answers_updates_${process.pid}`;
  before(async () => {
    prefix = testPrefix();
    running = await startHub({ broker: new RedisBroker({ url: REDIS_URL, prefix, blockMs: 500 }) });
    bridge = new RedisBridge(running.hub, {
      url: REDIS_URL,
      mappings: [
        { channel, topic: 'team-answers' },
        { channel: `scores_${process.pid}_*`, topic: 'scores' },
      ],
    });
    running.hub.own(bridge);
    await bridge.start();
  });
  after(async () => {
    await running.close();
    await dropPrefix(prefix);
  });

  it('republishes `redis-cli PUBLISH` messages into the mapped topic and skips malformed ones', async () => {
    const sse = await openSse(running.url, ['team-answers', 'scores']);
    const redisCli = spawnSync('redis-cli', ['-u', REDIS_URL, 'PUBLISH', channel, '{"type":"create","data":{"id":7,"text":"hi"}}'], { encoding: 'utf8' });
    if (redisCli.error !== undefined) {
      // No redis-cli binary: publish the same bytes with a client.
      const redis = new Redis(REDIS_URL);
      await redis.publish(channel, '{"type":"create","data":{"id":7,"text":"hi"}}');
      redis.disconnect();
    }
    const [event] = await sse.inbox.waitForEvents(1);
    assert.equal(event!['topic'], 'team-answers');
    assert.equal(event!['type'], 'create');
    assert.deepEqual(event!['data'], { id: 7, text: 'hi' });

    const redis = new Redis(REDIS_URL);
    for (const bad of ['not json', '[1,2]', '{"type":"create"}', '{"type":"bad type","data":1}', '{"type":"connected","data":1}']) {
      await redis.publish(channel, bad);
    }
    await redis.publish(`scores_${process.pid}_match7`, '{"type":"results_update","data":{"home":1}}');
    await redis.publish(channel, '{"data":{"id":8}}');
    redis.disconnect();
    await sse.inbox.waitForEvents(3);
    await sleep(50);
    assert.deepEqual(
      sse.inbox.events.map((e) => [e['topic'], e['type']]),
      [
        ['team-answers', 'create'],
        ['scores', 'results_update'],
        ['team-answers', 'message'],
      ],
    );
    assert.equal(await metric(running.url, 'herald_source_messages_total{source="redis_bridge",result="malformed"}'), 5);
    assert.equal(await metric(running.url, 'herald_source_messages_total{source="redis_bridge",result="published"}'), 3);
    sse.close();
  });
});

