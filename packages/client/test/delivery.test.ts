import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisBroker } from '../../server/src/broker/redis.js';
import { PrivateRedis, privateRedisSkipReason } from '../../server/test/helpers/private-redis.js';
import { testPrefix } from '../../server/test/helpers/redis.js';
import type { DeliveryState, HeraldEvent } from '../src/index.js';
import { CuttableProxy, startHub, subscribeAndWait, testClient, waitUntil, type RunningHub } from './helpers/setup.js';

const skip = privateRedisSkipReason();

// A real hub on a private redis-server, stalled with CLIENT PAUSE (never the shared Redis).
describe('client delivery state (real hub, Redis log)', { skip }, () => {
  let redis: PrivateRedis;
  let running: RunningHub;
  before(async () => {
    redis = await PrivateRedis.start(6397);
    running = await startHub({
      broker: new RedisBroker({ url: redis.url, prefix: testPrefix(), blockMs: 500, commandTimeoutMs: 1000, probeIntervalMs: 100, probeTimeoutMs: 300 }),
    });
  });
  after(async () => {
    await running.close();
    await redis.stop();
  });

  for (const transport of ['websocket', 'sse'] as const) {
    it(`${transport}: reports paused then live while the log stalls; onEvent sees only events`, async (t) => {
      const client = testClient({ url: running.url, transport });
      t.after(() => client.close());
      const deliveries: DeliveryState[] = [];
      client.on('delivery', (d) => deliveries.push(d));
      const events: HeraldEvent[] = [];
      await subscribeAndWait(client, `delivery/${transport}`, { onEvent: (event) => events.push(event) });
      assert.equal(client.delivery, 'live');
      await redis.admin.call('CLIENT', 'PAUSE', '1200', 'ALL');
      await waitUntil(() => client.delivery === 'paused', 'the client to report paused');
      await waitUntil(() => client.delivery === 'live', 'the client to report live again', 5000);
      await running.hub.publish({ topic: `delivery/${transport}`, data: 'after' });
      await waitUntil(() => events.length === 1, 'the event after the stall');
      assert.deepEqual(deliveries, ['paused', 'live']);
      assert.deepEqual(
        events.map((e) => e.data),
        ['after'],
        'onEvent never sees paused or resumed',
      );
    });
  }

  it('websocket: a resume refused with broker_unavailable during a stall is retried, not lost', async (t) => {
    const proxy = await CuttableProxy.start(running.port);
    const client = testClient({ url: proxy.url, transport: 'websocket' });
    t.after(async () => {
      client.close();
      await proxy.close();
    });
    const events: HeraldEvent[] = [];
    await subscribeAndWait(client, 'retry/topic', { onEvent: (event) => events.push(event) });
    await running.hub.publish({ topic: 'retry/topic', data: 'one' });
    await waitUntil(() => events.length === 1, 'the first event');
    const errors: unknown[] = [];
    client.on('error', (error) => errors.push(error));
    // Stall the log, then cut the connection: the reconnect's resume needs the log and is refused.
    await redis.admin.call('CLIENT', 'PAUSE', '1500', 'ALL');
    await waitUntil(() => client.delivery === 'paused', 'the client to report paused');
    proxy.cutAll();
    await waitUntil(() => client.state === 'reconnecting', 'the client to notice the cut');
    await waitUntil(() => client.state === 'connected' && client.delivery === 'live', 'the client back and live after the stall', 8000);
    await running.hub.publish({ topic: 'retry/topic', data: 'two' });
    await waitUntil(() => events.length === 2, 'the event after the stall on the resumed subscription');
    assert.deepEqual(
      events.map((e) => e.data),
      ['one', 'two'],
    );
    assert.deepEqual(errors, [], 'no subscription was refused for good');
  });
});
