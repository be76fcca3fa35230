/**
 * A connection has a resume position from `connected` on: a client that drops
 * before its first event resumes with nothing missed and no reset, on both
 * transports, including a plain EventSource (which keeps only `id:` fields). Run
 * against the in-memory log and the Redis log, each starting empty.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedisBroker } from '../src/broker/redis.js';
import type { Broker } from '../src/index.js';
import { openSse, parseSseFrames, rawGet, WsSubscriber } from './helpers/clients.js';
import { publish, publishMany, startHub, waitUntil, type RunningHub } from './helpers/hub.js';
import { CuttableProxy } from './helpers/proxy.js';
import { dropPrefix, REDIS_URL, redisSkipReason, testPrefix } from './helpers/redis.js';

const redisSkip = await redisSkipReason();

interface LogUnderTest {
  name: string;
  skip: string | false;
  /** A hub on a fresh, empty log; `cleanup` removes what the log left behind. */
  start(): Promise<{ running: RunningHub; cleanup(): Promise<void> }>;
}

const logs: LogUnderTest[] = [
  {
    name: 'memory',
    skip: false,
    start: async () => ({ running: await startHub({ sseRetry: 20 }), cleanup: async () => undefined }),
  },
  {
    name: 'redis',
    skip: redisSkip,
    start: async () => {
      const prefix = testPrefix();
      const broker: Broker = new RedisBroker({ url: REDIS_URL, prefix, blockMs: 200 });
      const running = await startHub({ sseRetry: 20, broker });
      await running.hub.ready();
      return { running, cleanup: () => dropPrefix(prefix) };
    },
  },
];

/** Waits until the hub's node has dispatched an event (on Redis its tail may lag the publish), so it is not live for later subscribers. */
async function dispatched(running: RunningHub): Promise<void> {
  await waitUntil(() => running.hub.broker.head() !== null, 'the node to dispatch the event');
}

// Subscribers a test opened, closed after it even when it fails (an open EventSource keeps reconnecting).
const opened: Array<{ close(): void }> = [];
function track<T extends { close(): void }>(subscriber: T): T {
  opened.push(subscriber);
  return subscriber;
}

/** Runs `test` against a hub on a fresh log, then closes it. */
async function withHub(log: LogUnderTest, test: (running: RunningHub) => Promise<void>): Promise<void> {
  const { running, cleanup } = await log.start();
  try {
    await test(running);
  } finally {
    for (const subscriber of opened.splice(0)) subscriber.close();
    await running.close();
    await cleanup();
  }
}

for (const log of logs) {
  describe(`resume position from connected (${log.name} log)`, { skip: log.skip }, () => {
    it('EventSource cut after connected and before any event gets every event published meanwhile, once, with no reset', async () => {
      await withHub(log, async (running) => {
        const proxy = await CuttableProxy.start(running.port);
        try {
          // The log is empty: the position names the start of the log.
          const sse = track(await openSse(proxy.url, ['feed']));
          const connected = sse.inbox.control('connected')[0]!;
          assert.equal(typeof connected['lastEventId'], 'string', 'connected names the position');
          proxy.down();
          const ids = await publishMany(running.url, 'feed', 5);
          proxy.up();
          // Published while EventSource is coming back, too.
          ids.push(...(await publishMany(running.url, 'feed', 5, 5)));
          await sse.inbox.waitForEvents(ids.length);
          await waitUntil(() => sse.inbox.control('connected').length >= 2, 'the reconnect');
          assert.deepEqual(
            sse.inbox.events.map((e) => e['id']),
            ids,
            'every event once, in order',
          );
          assert.equal(sse.inbox.control('reset').length, 0, 'no reset');
          assert.equal(sse.inbox.control('connected')[1]!['resumed'], true);
          sse.close();
        } finally {
          await proxy.close();
        }
      });
    });

    it('EventSource resumes from the position even when the last event in the log has a publisher id', async () => {
      await withHub(log, async (running) => {
        const proxy = await CuttableProxy.start(running.port);
        try {
          assert.equal((await publish(running.url, { topic: 'feed', data: 0, id: 'seed-1' })).status, 201);
          await dispatched(running);
          const sse = track(await openSse(proxy.url, ['feed']));
          assert.notEqual(sse.inbox.control('connected')[0]!['lastEventId'], 'seed-1', 'a position, not the event id');
          proxy.down();
          const ids = [(await publish(running.url, { topic: 'feed', data: 1, id: 'next-1' })).body.ids[0], ...(await publishMany(running.url, 'feed', 3))];
          proxy.up();
          await sse.inbox.waitForEvents(ids.length);
          await waitUntil(() => sse.inbox.control('connected').length >= 2, 'the reconnect');
          assert.deepEqual(
            sse.inbox.events.map((e) => e['id']),
            ids,
          );
          assert.equal(sse.inbox.control('reset').length, 0);
          sse.close();
        } finally {
          await proxy.close();
        }
      });
    });

    it('a raw WebSocket resumes with since = connected.lastEventId, and connected repeats that position', async () => {
      await withHub(log, async (running) => {
        const first = track(await WsSubscriber.open(running.url, '?topic=feed'));
        const position = first.inbox.control('connected')[0]!['lastEventId'] as string;
        assert.equal(typeof position, 'string');
        first.close();
        const ids = await publishMany(running.url, 'feed', 4);
        const second = track(await WsSubscriber.open(running.url, `?topic=feed&since=${encodeURIComponent(position)}`));
        const connected = second.inbox.control('connected')[0]!;
        assert.equal(connected['resumed'], true);
        assert.equal(connected['lastEventId'], position, 'a resumed connection keeps the id it resumed from');
        await second.inbox.waitForEvents(ids.length);
        assert.deepEqual(
          second.inbox.events.map((e) => e['id']),
          ids,
        );
        assert.equal(second.inbox.control('reset').length, 0);
        second.close();
      });
    });

    it('after a reset, EventSource takes the head position from the last reset frame and the next drop resumes', async () => {
      await withHub(log, async (running) => {
        await publishMany(running.url, 'a', 1);
        await dispatched(running);
        // Raw bytes: `connected` carries no id: line when resets follow; the last reset does.
        const raw = await rawGet(`${running.url}/events?topic=a&topic=b`, { 'last-event-id': 'gone-1' });
        await waitUntil(() => parseSseFrames(raw.text()).filter((f) => f['data']?.includes('"reset"')).length === 2, 'two resets');
        const frames = parseSseFrames(raw.text());
        raw.destroy();
        const connected = JSON.parse(frames[0]!['data']!) as Record<string, unknown>;
        assert.equal(frames[0]!['id'], undefined, 'no id: on connected when resets follow');
        assert.equal(frames[1]!['id'], undefined);
        assert.equal(frames[2]!['id'], connected['lastEventId'], 'the last reset carries the position');

        const proxy = await CuttableProxy.start(running.port);
        try {
          const sse = track(await openSse(proxy.url, ['a', 'b'], { lastEventId: 'gone-1' }));
          await waitUntil(() => sse.inbox.control('reset').length === 2, 'the resets');
          proxy.down();
          const ids = await publishMany(running.url, 'b', 3);
          proxy.up();
          await sse.inbox.waitForEvents(ids.length);
          assert.deepEqual(
            sse.inbox.events.map((e) => e['id']),
            ids,
          );
          assert.equal(sse.inbox.control('reset').length, 2, 'no second round of resets');
          assert.equal(sse.inbox.control('connected')[1]!['resumed'], true);
          sse.close();
        } finally {
          await proxy.close();
        }
      });
    });
  });
}
