/**
 * `--redis-bridge` on several nodes of one log: pub/sub hands each message to every
 * node, and exactly one of them (the lease holder) must turn it into an event.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { bridged, flush, leaseHolderPid, sendUntilReceived, startBridgeNodes, waitForBridged } from '../helpers/bridge-nodes.js';
import { dropPrefix, REDIS_URL, redisSkipReason, testPrefix } from '../helpers/redis.js';

const skip = await redisSkipReason();
const TOPIC = 'bridged';

/** Two nodes on a fresh prefix, both bridging a fresh channel into TOPIC. */
async function setUp() {
  const prefix = testPrefix();
  const channel = `bridge_once_${randomBytes(6).toString('hex')}`;
  const pair = await startBridgeNodes(['--redis', REDIS_URL, '--redis-prefix', prefix, '--redis-bridge', `${channel}=${TOPIC}`], TOPIC);
  const redis = new Redis(REDIS_URL);
  const send = async (message: unknown): Promise<void> => void (await redis.publish(channel, JSON.stringify(message)));
  return {
    ...pair,
    prefix,
    lease: `redis-bridge:${channel}=${TOPIC}`,
    send,
    tearDown: async () => {
      redis.disconnect();
      await pair.stop();
      await dropPrefix(prefix);
    },
  };
}

describe('Redis bridge on two nodes sharing a log', { skip }, () => {
  it('one PUBLISH becomes exactly one event with one id on both nodes; 20 more stay 20, in order', { timeout: 30_000 }, async () => {
    const { nodes, subscribers, send, tearDown } = await setUp();
    try {
      await send({ type: 'create', data: { id: 1 } });
      for (const subscriber of subscribers) await subscriber.inbox.waitForEvents(1);
      await flush(nodes, subscribers, TOPIC);
      const [first, second] = subscribers.map((subscriber) => bridged(subscriber));
      assert.equal(first!.length, 1, 'one event on the first node');
      assert.deepEqual(
        second!.map((e) => e['id']),
        first!.map((e) => e['id']),
        'the same single event on the second node',
      );
      assert.deepEqual([first![0]!['type'], first![0]!['data']], ['create', { id: 1 }]);

      for (let n = 2; n <= 21; n++) await send({ type: 'create', data: { id: n } });
      for (const subscriber of subscribers) await subscriber.inbox.waitForEvents(21 + 2);
      await flush(nodes, subscribers, TOPIC);
      for (const subscriber of subscribers) {
        const events = bridged(subscriber);
        assert.deepEqual(
          events.map((e) => e['data']['id']),
          Array.from({ length: 21 }, (_, i) => i + 1),
          'each message once, in order',
        );
        assert.equal(new Set(events.map((e) => e['id'])).size, 21);
      }
      assert.deepEqual(
        bridged(subscribers[1]!).map((e) => e['id']),
        bridged(subscribers[0]!).map((e) => e['id']),
        'same ids on both nodes',
      );
    } finally {
      await tearDown();
    }
  });

  it('after the holder is killed (SIGKILL), the survivor bridges within seconds, each message once', { timeout: 30_000 }, async () => {
    const { nodes, subscribers, prefix, lease, send, tearDown } = await setUp();
    try {
      const holderPid = await leaseHolderPid(prefix, lease);
      const holder = nodes.findIndex((node) => node.child.pid === holderPid);
      assert.notEqual(holder, -1, `one of the nodes holds ${lease}`);
      const survivor = 1 - holder;
      await send({ type: 'before', data: { n: 0 } });
      await subscribers[survivor]!.inbox.waitForEvents(1);

      nodes[holder]!.child.kill('SIGKILL');
      await nodes[holder]!.exited;
      // Messages sent before the survivor takes over are lost (pub/sub keeps nothing); poll until one gets through.
      const sent = await sendUntilReceived((n) => send({ type: 'tick', data: { n } }), subscribers[survivor]!, 10_000);
      await send({ type: 'after', data: { n: sent + 1 } });
      await waitForBridged(subscribers[survivor]!, 'after');
      await flush(nodes, [subscribers[survivor]!], TOPIC);

      const events = bridged(subscribers[survivor]!);
      const numbers = events.map((e) => e['data']['n'] as number);
      assert.deepEqual(
        numbers,
        [...numbers].sort((a, b) => a - b),
        'in order',
      );
      assert.equal(new Set(numbers).size, numbers.length, 'no message twice');
      assert.deepEqual([events[0]!['type'], events.at(-1)!['type']], ['before', 'after']);
      assert.equal(await leaseHolderPid(prefix, lease), nodes[survivor]!.child.pid, 'the survivor holds the lease now');
    } finally {
      await tearDown();
    }
  });
});
