import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReadResult } from '../src/broker/broker.js';
import { MemoryBroker, type MemoryBrokerOptions, type RestoredEvent } from '../src/broker/memory.js';
import type { LogEvent } from '../src/encoding/log-event.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

/** A started MemoryBroker on a fake clock, recording what its tail listener receives. */
async function started(options: Omit<MemoryBrokerOptions, 'now'> = {}): Promise<{ broker: MemoryBroker; clock: { now: number }; tailed: LogEvent[] }> {
  const clock = { now: T0 };
  const broker = new MemoryBroker({ ...options, now: () => clock.now });
  const tailed: LogEvent[] = [];
  await broker.start((events) => tailed.push(...events));
  return { broker, clock, tailed };
}

/** Restored event `outbox-<n>`, accepted `ago` ms before T0. */
const old = (n: number, ago = 1000 * (100 - n)): RestoredEvent => ({ id: `outbox-${n}`, topic: 't', type: 'row', data: { n }, acceptedAt: T0 - ago });

function okIds(result: ReadResult): string[] {
  if (!result.ok) assert.fail(`expected ok, got ${result.reason}`);
  return result.events.map((e) => e.id);
}

describe('MemoryBroker.restore', () => {
  it('makes earlier events history: resumable, deduplicated, with their own times, never tailed; appends follow them', async () => {
    const { broker, tailed } = await started();
    try {
      broker.restore([old(1), old(2), old(3)]);
      assert.equal(broker.head(), '0000000000000003');
      assert.equal(tailed.length, 0, 'live subscribers do not receive history again');
      const after1 = await broker.read('outbox-1', broker.head());
      assert.deepEqual(okIds(after1), ['outbox-2', 'outbox-3']);
      assert.ok(after1.ok);
      assert.equal(after1.events[0]!.envelope.timestamp, new Date(T0 - 98_000).toISOString(), 'the original time');
      assert.deepEqual(after1.events[0]!.envelope.data, { n: 2 });

      const results = await broker.append([
        { topic: 't', type: 'row', data: { n: 3 }, id: 'outbox-3' },
        { topic: 't', type: 'row', data: { n: 4 }, id: 'outbox-4' },
      ]);
      assert.deepEqual(results, [
        { id: 'outbox-3', duplicate: true },
        { id: 'outbox-4', duplicate: false },
      ]);
      assert.deepEqual(
        tailed.map((e) => e.id),
        ['outbox-4'],
      );
      assert.deepEqual(okIds(await broker.read('outbox-2', broker.head())), ['outbox-3', 'outbox-4']);
      // Positions are ids too (`<epoch>-<n>` names the place after the n-th event, whoever named that event).
      assert.deepEqual(
        okIds(await broker.read(`${broker.epoch}-1`, broker.head())),
        ['outbox-2', 'outbox-3', 'outbox-4'],
        'a position resumes after the n-th event',
      );
    } finally {
      await broker.close();
    }
  });

  it('is refused, restoring nothing, once the log has held an event, or for reserved or repeated ids', async () => {
    const { broker } = await started();
    try {
      assert.throws(() => broker.restore([old(1), { ...old(2), id: '0123456789-1' }]), /reserved/);
      assert.throws(() => broker.restore([old(1), old(2), old(1)]), /twice/);
      assert.equal(broker.head(), null, 'a refused restore leaves the log empty');
      broker.restore([]);
      await broker.append([{ topic: 't', type: 'row', data: null }]);
      assert.throws(() => broker.restore([old(1)]), /never held an event/);
      assert.equal(broker.head(), '0000000000000001');
    } finally {
      await broker.close();
    }
  });

  it("applies retention at once and from each event's own time: the newest maxEvents, none older than maxAgeMs", async () => {
    const { broker, clock } = await started({ maxEvents: 3, maxAgeMs: 10_000 });
    try {
      broker.restore([old(1, 50_000), old(2, 4000), old(3, 3000), old(4, 2000), old(5, 1000)]);
      assert.equal((await broker.read('outbox-2', broker.head())).ok, false, 'outside maxEvents');
      assert.deepEqual(okIds(await broker.read('outbox-3', broker.head())), ['outbox-4', 'outbox-5']);
      // 8.5 s after the restore, outbox-4 is 10.5 s old: gone by age, not by count.
      clock.now += 8500;
      await broker.append([{ topic: 't', type: 'row', data: null, id: 'live' }]);
      assert.equal((await broker.read('outbox-4', broker.head())).ok, false, 'older than maxAgeMs');
      assert.deepEqual(okIds(await broker.read('outbox-5', broker.head())), ['live']);
    } finally {
      await broker.close();
    }
  });
});
