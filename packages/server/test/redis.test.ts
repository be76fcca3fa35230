// One hub on Redis: an outage, a wiped log, and the Redis bridge (several nodes on one log: cluster/).
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

const skip = await redisSkipReason();

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
    assert.deepEqual(
      sse.inbox.events.map((e) => e['id']),
      expected,
    );
    assert.deepEqual(
      ws.inbox.events.map((e) => e['id']),
      expected,
    );
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
