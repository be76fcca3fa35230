/**
 * The Redis lease where the contract suite cannot reach: a holder cut off from
 * Redis stops acting before anyone else can start, and a holder that can no longer
 * do the work hands the lease over.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedisBroker } from '../../src/broker/redis.js';
import { sleep, waitUntil } from '../helpers/hub.js';
import { CuttableProxy } from '../helpers/proxy.js';
import { dropPrefix, REDIS_URL, redisSkipReason, testPrefix } from '../helpers/redis.js';

const skip = await redisSkipReason();
const TTL_MS = 600;

/** Two started brokers on one prefix; the first reaches Redis through `proxy` when given and counts what its tail delivers. */
async function twoNodes(prefix: string, proxy?: CuttableProxy): Promise<{ brokers: [RedisBroker, RedisBroker]; tailed: () => number }> {
  const redis = new URL(REDIS_URL);
  const viaProxy = proxy === undefined ? REDIS_URL : `redis://127.0.0.1:${proxy.port}${redis.pathname}`;
  const brokers: [RedisBroker, RedisBroker] = [
    new RedisBroker({ url: viaProxy, prefix, blockMs: 200, commandTimeoutMs: 200 }),
    new RedisBroker({ url: REDIS_URL, prefix, blockMs: 200 }),
  ];
  let count = 0;
  await brokers[0].start((events) => (count += events.length));
  await brokers[1].start(() => undefined);
  return { brokers, tailed: () => count };
}

describe('Redis lease', { skip }, () => {
  it('a holder cut off from Redis stops acting before the other node takes over', { timeout: 20_000 }, async () => {
    const prefix = testPrefix();
    const proxy = await CuttableProxy.start(Number(new URL(REDIS_URL).port || 6379));
    const {
      brokers: [cut, other],
      tailed,
    } = await twoNodes(prefix, proxy);
    try {
      const holder = cut.lease('bridge', { ttlMs: TTL_MS });
      await holder.ready;
      const standby = other.lease('bridge', { ttlMs: TTL_MS });
      await standby.ready;
      assert.deepEqual([holder.held(), standby.held()], [true, false]);

      proxy.down();
      // Sampled every few milliseconds through the handover: never both at once.
      let overlaps = 0;
      await waitUntil(
        () => {
          if (holder.held() && standby.held()) overlaps++;
          return standby.held();
        },
        'the standby to take over',
        TTL_MS * 5,
      );
      assert.equal(overlaps, 0, 'the cut-off holder had stopped before the standby started');
      assert.equal(holder.held(), false);
      await sleep(TTL_MS / 2);
      assert.deepEqual([holder.held(), standby.held()], [false, true], 'the standby keeps it by renewing');
    } finally {
      proxy.up();
      // Closing a RedisBroker whose tail is still reconnecting waits for the reconnection: let it reconnect first.
      await other.append([{ topic: 'probe', type: 'probe', data: null }]);
      await waitUntil(() => tailed() > 0, 'the cut-off broker to reconnect', 10_000);
      await cut.close();
      await other.close();
      await proxy.close();
      await dropPrefix(prefix);
    }
  });

  it('a holder that becomes ineligible hands the lease to one that is', { timeout: 20_000 }, async () => {
    const prefix = testPrefix();
    const {
      brokers: [first, second],
    } = await twoNodes(prefix);
    try {
      let able = true;
      const changes: boolean[] = [];
      const holder = first.lease('bridge', { ttlMs: TTL_MS, eligible: () => able, onChange: (held) => changes.push(held) });
      await holder.ready;
      const standby = second.lease('bridge', { ttlMs: TTL_MS });
      await standby.ready;
      assert.deepEqual([holder.held(), standby.held()], [true, false]);
      able = false;
      await waitUntil(() => standby.held(), 'the eligible lease to take over', TTL_MS * 5);
      assert.equal(holder.held(), false);
      assert.deepEqual(changes, [true, false]);
      await sleep(TTL_MS / 2);
      assert.equal(holder.held(), false, 'an ineligible lease does not take it back');
    } finally {
      await first.close();
      await second.close();
      await dropPrefix(prefix);
    }
  });

  it('refuses a TTL too short to renew, and lease() before start', async () => {
    const broker = new RedisBroker({ url: REDIS_URL, prefix: testPrefix() });
    assert.throws(() => broker.lease('bridge'), /needs a started broker/);
    await broker.start(() => undefined);
    try {
      assert.throws(() => broker.lease('bridge', { ttlMs: 10 }), /ttlMs must be an integer of at least 100/);
    } finally {
      await broker.close();
    }
  });
});
