import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisBroker } from '../src/broker/redis.js';
import { openSse, WsSubscriber, type Message } from './helpers/clients.js';
import { publish, startHub, waitUntil, type RunningHub } from './helpers/hub.js';
import { PrivateRedis, privateRedisSkipReason } from './helpers/private-redis.js';
import { dropPrefix, REDIS_URL, redisSkipReason, testPrefix } from './helpers/redis.js';
import { startServe, stopServe } from './helpers/serve.js';

// Subscribers still open when a test fails would keep reconnecting (and the file running): close them all.
const opened: Array<{ close(): void }> = [];
const keep = <T extends { close(): void }>(subscriber: T): T => {
  opened.push(subscriber);
  return subscriber;
};
afterEach(() => {
  for (const subscriber of opened.splice(0)) subscriber.close();
});

const skipShared = await redisSkipReason();
const skipPrivate = privateRedisSkipReason();

/** Each message as `event:<data>` or its control type, in arrival order. */
const timeline = (messages: Message[]): string[] =>
  messages.map((m) => (typeof m['id'] === 'string' ? `event:${JSON.stringify(m['data'])}` : `${m['type']}${m['reason'] ? `:${m['reason']}` : ''}`));

/** Drops `paused`/`resumed` (whether a short stall is noticed depends on timing) and heartbeats. */
const withoutStatus = (entries: string[]): string[] => entries.filter((e) => !/^(paused|resumed|heartbeat)/.test(e));

describe('Redis gaps on the shared Redis', { skip: skipShared }, () => {
  it('a node stopped (SIGSTOP) while another publishes past retention resets its subscribers before anything else', async () => {
    const prefix = testPrefix();
    const args = ['--redis', REDIS_URL, '--redis-prefix', prefix, '--history-size', '50', '--no-demo'];
    const [a, b] = await Promise.all([startServe(args), startServe(args)]);
    try {
      const sse = keep(await openSse(b.url, ['t']));
      await publish(a.url, { topic: 't', data: 1 });
      await sse.inbox.waitForEvents(1);
      b.child.kill('SIGSTOP');
      const batch = Array.from({ length: 120 }, (_, i) => ({ topic: 't', data: i + 2 }));
      assert.equal((await publish(a.url, batch)).status, 201);
      b.child.kill('SIGCONT');
      await waitUntil(() => sse.inbox.control('reset').length > 0, 'the stalled node to send reset', 10_000);
      await publish(a.url, { topic: 't', data: 122 });
      await waitUntil(() => sse.inbox.events.some((e) => e['data'] === 122), 'the event after the stall', 10_000);
      const seen = withoutStatus(timeline(sse.inbox.messages));
      assert.deepEqual(seen.slice(0, 3), ['connected', 'event:1', 'reset:expired'], 'reset comes before any event after the gap');
      // What follows the reset is what retention still held, in order, then the new event.
      const after = seen.slice(3).map((e) => Number(e.slice('event:'.length)));
      assert.deepEqual(after, [...Array.from({ length: 50 }, (_, i) => 72 + i), 122]);
      sse.close();
    } finally {
      b.child.kill('SIGCONT');
      await Promise.all([stopServe(a), stopServe(b)]);
      await dropPrefix(prefix);
    }
  });

  it('a stream deleted under a running hub gives a new epoch: subscribers get reset (unknown_id), old ids too', async () => {
    const prefix = testPrefix();
    const hub = await startHub({ broker: new RedisBroker({ url: REDIS_URL, prefix, blockMs: 500 }) });
    const admin = new Redis(REDIS_URL);
    try {
      const ws = keep(await WsSubscriber.open(hub.url, '?topic=w'));
      const [old] = (await publish(hub.url, { topic: 'w', data: 1 })).body.ids as string[];
      await ws.inbox.waitForEvents(1);
      await admin.del(`${prefix}log`);
      const [fresh] = (await publish(hub.url, { topic: 'w', data: 2 })).body.ids as string[];
      assert.notEqual(fresh!.slice(0, 10), old!.slice(0, 10), 'the epoch changed');
      await ws.inbox.waitForEvents(2);
      assert.deepEqual(withoutStatus(timeline(ws.inbox.messages)), ['connected', 'event:1', 'reset:unknown_id', 'event:2']);
      const resumed = keep(await openSse(hub.url, ['w'], { lastEventId: old! }));
      assert.equal((await resumed.inbox.waitForControl('reset'))['reason'], 'unknown_id');
      ws.close();
      resumed.close();
    } finally {
      admin.disconnect();
      await hub.close();
      await dropPrefix(prefix);
    }
  });
});

describe('Redis restarts', { skip: skipPrivate }, () => {
  const cleanup: Array<() => Promise<void>> = [];
  after(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  async function hubOn(redis: PrivateRedis): Promise<RunningHub> {
    const hub = await startHub({
      broker: new RedisBroker({ url: redis.url, prefix: testPrefix(), blockMs: 500, commandTimeoutMs: 500, probeIntervalMs: 100, probeTimeoutMs: 300 }),
    });
    cleanup.push(() => hub.close());
    return hub;
  }

  it('Redis restarted empty: paused, then reset (unknown_id) before resumed, on both transports', async () => {
    const redis = await PrivateRedis.start(6395);
    cleanup.push(() => redis.stop());
    const hub = await hubOn(redis);
    const sse = keep(await openSse(hub.url, ['r']));
    const ws = keep(await WsSubscriber.open(hub.url, '?topic=r'));
    await publish(hub.url, { topic: 'r', data: 1 });
    for (const subscriber of [sse, ws]) await subscriber.inbox.waitForEvents(1);
    await redis.restart();
    for (const subscriber of [sse, ws]) await subscriber.inbox.waitForControl('resumed', 10_000);
    assert.equal((await publish(hub.url, { topic: 'r', data: 2 })).status, 201);
    for (const subscriber of [sse, ws]) {
      await subscriber.inbox.waitForEvents(2);
      assert.deepEqual(timeline(subscriber.inbox.messages), ['connected', 'event:1', 'paused:log_unavailable', 'reset:unknown_id', 'resumed', 'event:2']);
    }
    sse.close();
    ws.close();
  });

  it('Redis restarted with its data: paused, resumed, no reset, nothing lost', async () => {
    const redis = await PrivateRedis.start(6396, true);
    cleanup.push(() => redis.stop());
    const hub = await hubOn(redis);
    const sse = keep(await openSse(hub.url, ['k']));
    await publish(hub.url, { topic: 'k', data: 1 });
    await sse.inbox.waitForEvents(1);
    await redis.restart();
    await sse.inbox.waitForControl('resumed', 10_000);
    await publish(hub.url, { topic: 'k', data: 2 });
    await sse.inbox.waitForEvents(2);
    assert.deepEqual(timeline(sse.inbox.messages), ['connected', 'event:1', 'paused:log_unavailable', 'resumed', 'event:2']);
    sse.close();
  });
});
