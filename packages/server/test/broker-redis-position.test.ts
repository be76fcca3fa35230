/**
 * RedisBroker positions: the epoch is known from start (so an empty log has a
 * position every node agrees on), a log emptied by retention still gives a
 * readable position, and the epoch the tail sees is the one positions use.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisBroker } from '../src/broker/redis.js';
import type { LogEvent } from '../src/encoding/log-event.js';
import { waitUntil } from './helpers/hub.js';
import { dropPrefix, REDIS_URL, redisSkipReason, testPrefix } from './helpers/redis.js';

const skip = await redisSkipReason();

const draft = (n: number) => ({ topic: 't', type: 'test', data: { n } });

async function started(prefix: string, options: { maxAgeMs?: number } = {}): Promise<{ broker: RedisBroker; seen: LogEvent[] }> {
  const broker = new RedisBroker({ url: REDIS_URL, prefix, blockMs: 200, ...options });
  const seen: LogEvent[] = [];
  await broker.start((events) => seen.push(...events));
  return { broker, seen };
}

describe('RedisBroker positions', { skip }, () => {
  it('knows the epoch from start: nodes on an empty log name the same position, in the epoch appends then use', async () => {
    const prefix = testPrefix();
    const a = await started(prefix);
    const b = await started(prefix);
    try {
      const position = a.broker.positionId(null);
      assert.match(position, /^[0-9a-f]{10}-0-0$/);
      assert.equal(b.broker.positionId(null), position, 'one epoch for every node');
      const [result] = await b.broker.append([draft(0)]);
      assert.equal(result!.id.slice(0, 10), position.slice(0, 10), 'appends use the epoch start created');
      await waitUntil(() => a.seen.length === 1, 'the tail');
      const read = await a.broker.read(position, a.broker.head());
      assert.ok(read.ok);
      assert.deepEqual(
        read.events.map((e) => e.id),
        [result!.id],
      );
    } finally {
      await a.broker.close();
      await b.broker.close();
      await dropPrefix(prefix);
    }
  });

  it('a node starting on a log emptied by age retention gets a position that is not expired', async () => {
    const prefix = testPrefix();
    const redis = new Redis(REDIS_URL);
    const a = await started(prefix, { maxAgeMs: 50 });
    try {
      await a.broker.append([draft(0), draft(1)]);
      await waitUntil(async () => (await redis.xlen(`${prefix}log`)) === 0, 'retention to empty the stream', 5000);
      const b = await started(prefix);
      try {
        const position = b.broker.positionId(b.broker.head());
        const before = await b.broker.read(position, b.broker.head());
        assert.ok(before.ok, `the start position reads (got ${JSON.stringify(before)})`);
        const [result] = await a.broker.append([draft(2)]);
        await waitUntil(() => b.seen.length === 1, 'the tail of the new node');
        const read = await b.broker.read(position, b.broker.head());
        assert.ok(read.ok);
        assert.deepEqual(
          read.events.map((e) => e.id),
          [result!.id],
        );
      } finally {
        await b.broker.close();
      }
    } finally {
      await a.broker.close();
      redis.disconnect();
      await dropPrefix(prefix);
    }
  });

  it('follows an epoch change seen on its tail (a wiped log), so positions name the new log', async () => {
    const prefix = testPrefix();
    const redis = new Redis(REDIS_URL);
    const a = await started(prefix);
    try {
      const old = a.broker.positionId(null);
      await redis.del(`${prefix}log`, `${prefix}meta`);
      await redis.hset(`${prefix}meta`, 'epoch', '0123456789');
      const [result] = await a.broker.append([draft(0)]);
      assert.match(result!.id, /^0123456789-/);
      await waitUntil(() => a.seen.length === 1, 'the tail');
      const position = a.broker.positionId(a.broker.head());
      assert.notEqual(position.slice(0, 10), old.slice(0, 10));
      assert.equal(position, result!.id, 'the head position in the epoch of its event');
      assert.deepEqual(await a.broker.read(old, a.broker.head()), { ok: false, reason: 'unknown_id' }, 'the old epoch is unknown');
    } finally {
      await a.broker.close();
      redis.disconnect();
      await dropPrefix(prefix);
    }
  });
});
