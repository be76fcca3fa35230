import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeraldError, type ErrorCode } from '@herald/protocol';
import type { EventDraft, ReadResult } from '../src/broker/broker.js';
import { MemoryBroker, type MemoryBrokerOptions } from '../src/broker/memory.js';
import type { LogEvent } from '../src/encoding/log-event.js';

const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);

/** A started MemoryBroker on a fake clock, recording what its tail listener receives. */
async function started(options: Omit<MemoryBrokerOptions, 'now'> = {}): Promise<{
  broker: MemoryBroker;
  clock: { now: number };
  tailed: LogEvent[];
  batches: number[];
}> {
  const clock = { now: T0 };
  const broker = new MemoryBroker({ ...options, now: () => clock.now });
  const tailed: LogEvent[] = [];
  const batches: number[] = [];
  await broker.start((events) => {
    batches.push(events.length);
    tailed.push(...events);
  });
  return { broker, clock, tailed, batches };
}

const draft = (n: number | string, id?: string): EventDraft =>
  id === undefined ? { topic: 't', type: 'test', data: { n } } : { topic: 't', type: 'test', data: { n }, id };

/** Asserts the read succeeded and returns the ids it gave. */
/** The memory broker's position for a sequence number. */
const pos = (seq: number): string => seq.toString().padStart(16, '0');

function okIds(result: ReadResult): string[] {
  if (!result.ok) assert.fail(`expected ok, got ${result.reason}`);
  return result.events.map((e) => e.id);
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof HeraldError && error.code === code);
}

describe('MemoryBroker', () => {
  it('generates ids <epoch>-<n>, increasing from 1 across batches, and tails them in order', async () => {
    const { broker, tailed, batches } = await started();
    try {
      assert.match(broker.epoch, /^[0-9a-f]{10}$/);
      assert.equal(broker.name, 'memory');
      const e = broker.epoch;
      const first = await broker.append([draft(1), draft(2), draft(3)]);
      const second = await broker.append([draft(4)]);
      const third = await broker.append([draft(5), draft(6)]);
      assert.deepEqual(
        [...first, ...second, ...third],
        [1, 2, 3, 4, 5, 6].map((n) => ({ id: `${e}-${n}`, duplicate: false })),
      );
      assert.deepEqual(batches, [3, 1, 2]);
      assert.deepEqual(
        tailed.map((event) => event.id),
        [1, 2, 3, 4, 5, 6].map((n) => `${e}-${n}`),
      );
      assert.deepEqual(
        tailed.map((event) => (event.envelope.data as { n: number }).n),
        [1, 2, 3, 4, 5, 6],
      );
      assert.equal(broker.head(), pos(6));
    } finally {
      await broker.close();
    }
  });

  it('stores the envelope with the clock time as timestamp and acceptedAt', async () => {
    const { broker, clock, tailed } = await started();
    try {
      clock.now = T0 + 1234;
      await broker.append([{ topic: 'a/b', type: 'create', data: { x: [1] } }]);
      const [event] = tailed;
      assert.ok(event !== undefined);
      assert.deepEqual(event.envelope, {
        id: `${broker.epoch}-1`,
        topic: 'a/b',
        type: 'create',
        data: { x: [1] },
        timestamp: new Date(T0 + 1234).toISOString(),
      });
      assert.equal(event.acceptedAt, T0 + 1234);
    } finally {
      await broker.close();
    }
  });

  it('head() is null before any append, then the position of the last event', async () => {
    const { broker } = await started();
    try {
      assert.equal(broker.head(), null);
      assert.deepEqual(await broker.read(`${broker.epoch}-1`, null), { ok: false, reason: 'unknown_id' });
      await broker.append([draft(1, 'pub-1')]);
      assert.equal(broker.head(), pos(1), 'a position, even when the event carries a publisher id');
      await broker.append([draft(2)]);
      assert.equal(broker.head(), pos(2));
    } finally {
      await broker.close();
    }
  });

  it('names every position with positionId, whatever id the event there carries, and reads after it', async () => {
    const { broker } = await started();
    try {
      const e = broker.epoch;
      assert.equal(broker.positionId(null), `${e}-0`, 'an empty log');
      assert.deepEqual(await broker.read(broker.positionId(null), null), { ok: true, events: [], after: pos(0) });
      await broker.append([draft(1), draft(2, 'pub'), draft(3)]);
      assert.equal(broker.positionId(pos(2)), `${e}-2`);
      // Position 2 holds the publisher id "pub": its position id still reads what follows.
      assert.deepEqual(okIds(await broker.read(broker.positionId(pos(2)), broker.head())), [`${e}-3`]);
      assert.deepEqual(okIds(await broker.read(broker.positionId(null), broker.head())), [`${e}-1`, 'pub', `${e}-3`]);
    } finally {
      await broker.close();
    }
  });

  it('answers expired for the empty-log position once anything was trimmed', async () => {
    const { broker } = await started({ maxEvents: 2 });
    try {
      const empty = broker.positionId(broker.head());
      await broker.append([draft(1), draft(2)]);
      assert.ok((await broker.read(empty, broker.head())).ok, 'nothing trimmed yet');
      await broker.append([draft(3)]);
      assert.deepEqual(await broker.read(empty, broker.head()), { ok: false, reason: 'expired' });
    } finally {
      await broker.close();
    }
  });

  it('reads the events after an id up to and including until', async () => {
    const { broker } = await started();
    try {
      const e = broker.epoch;
      await broker.append([draft(1), draft(2), draft(3), draft(4), draft(5)]);
      const head = broker.head();
      assert.deepEqual(okIds(await broker.read(`${e}-2`, head)), [`${e}-3`, `${e}-4`, `${e}-5`]);
      assert.deepEqual(okIds(await broker.read(`${e}-1`, pos(3))), [`${e}-2`, `${e}-3`]);
      assert.deepEqual(okIds(await broker.read(`${e}-5`, head)), []);
      assert.deepEqual(okIds(await broker.read(`${e}-2`, null)), [], 'until null: nothing');
      assert.deepEqual(okIds(await broker.read(`${e}-4`, pos(2))), [], 'until before after');
    } finally {
      await broker.close();
    }
  });

  it('rejects publisher ids shaped like generated ids (any epoch) with invalid_id and appends nothing of the batch', async () => {
    const { broker, tailed } = await started();
    const other = new MemoryBroker();
    try {
      const e = broker.epoch;
      await rejectsWith(broker.append([draft(1, `${e}-1`)]), 'invalid_id');
      await rejectsWith(broker.append([draft(1, `${other.epoch}-1`)]), 'invalid_id');
      await rejectsWith(broker.append([draft(1), draft(2, 'fine'), draft(3, `${e}-99`)]), 'invalid_id');
      assert.equal(broker.head(), null);
      assert.equal(tailed.length, 0);
      // 'fine' was not remembered by the rejected batch
      assert.deepEqual(await broker.append([draft(4, 'fine')]), [{ id: 'fine', duplicate: false }]);
      assert.equal(broker.head(), pos(1));
      // Only ten hex digits, a dash and a digit are reserved.
      assert.deepEqual(await broker.append([draft(5, `${e}`)]), [{ id: e, duplicate: false }]);
      assert.deepEqual(await broker.append([draft(6, `x${e}-1`)]), [{ id: `x${e}-1`, duplicate: false }]);
      assert.deepEqual(await broker.append([draft(7, `${e}-custom`)]), [{ id: `${e}-custom`, duplicate: false }]);
      assert.deepEqual(
        tailed.map((t) => t.id),
        ['fine', e, `x${e}-1`, `${e}-custom`],
      );
    } finally {
      await broker.close();
      await other.close();
    }
  });

  it('marks a repeated publisher id as a duplicate without appending it', async () => {
    const { broker, tailed } = await started();
    try {
      assert.deepEqual(await broker.append([draft(1, 'order-1')]), [{ id: 'order-1', duplicate: false }]);
      assert.deepEqual(await broker.append([draft(2, 'order-1'), draft(3)]), [
        { id: 'order-1', duplicate: true },
        { id: `${broker.epoch}-2`, duplicate: false },
      ]);
      assert.deepEqual(
        tailed.map((t) => t.id),
        ['order-1', `${broker.epoch}-2`],
      );
      assert.deepEqual((tailed[0]!.envelope.data as { n: number }).n, 1, 'the original is kept');
      assert.deepEqual(await broker.append([draft(4, 'order-1')]), [{ id: 'order-1', duplicate: true }]);
      assert.equal(broker.head(), pos(2));
      assert.equal(tailed.length, 2);
    } finally {
      await broker.close();
    }
  });

  it('appends a publisher id once when it appears twice in one batch', async () => {
    const { broker, tailed, batches } = await started();
    try {
      const results = await broker.append([draft(1, 'dup'), draft(2), draft(3, 'dup'), draft(4, 'other')]);
      assert.deepEqual(results, [
        { id: 'dup', duplicate: false },
        { id: `${broker.epoch}-2`, duplicate: false },
        { id: 'dup', duplicate: true },
        { id: 'other', duplicate: false },
      ]);
      assert.deepEqual(batches, [3]);
      assert.deepEqual(
        tailed.map((t) => t.id),
        ['dup', `${broker.epoch}-2`, 'other'],
      );
      assert.deepEqual((tailed[0]!.envelope.data as { n: number }).n, 1);
      assert.equal(broker.head(), pos(3));
      assert.deepEqual(okIds(await broker.read('dup', broker.head())), [`${broker.epoch}-2`, 'other']);
    } finally {
      await broker.close();
    }
  });

  it('does not call the tail listener for a batch of duplicates only', async () => {
    const { broker, batches } = await started();
    try {
      await broker.append([draft(1, 'a')]);
      await broker.append([draft(2, 'a'), draft(3, 'a')]);
      assert.deepEqual(batches, [1]);
    } finally {
      await broker.close();
    }
  });

  it('reads after a publisher id in the log', async () => {
    const { broker } = await started();
    try {
      const e = broker.epoch;
      await broker.append([draft(1), draft(2, 'p2'), draft(3)]);
      assert.deepEqual(okIds(await broker.read('p2', broker.head())), [`${e}-3`]);
      assert.deepEqual(okIds(await broker.read(`${e}-1`, broker.head())), ['p2', `${e}-3`]);
    } finally {
      await broker.close();
    }
  });

  it('answers unknown_id for ids it never issued', async () => {
    const { broker } = await started();
    const other = new MemoryBroker();
    await other.start(() => undefined);
    try {
      const e = broker.epoch;
      const [fromOther] = await other.append([draft(1)]);
      await broker.append([draft(1), draft(2, 'pub'), draft(3)]);
      assert.notEqual(other.epoch, e);
      const unknown = [
        fromOther!.id, // another MemoryBroker instance (another epoch)
        `${other.epoch}-3`,
        'never-published',
        `${e}-4`, // beyond the last event
        `${e}-99`,
        `${e}-01`,
        `${e}-1.0`,
        `${e}-`,
        `${e}-x`,
        e,
      ];
      for (const id of unknown) {
        assert.deepEqual(await broker.read(id, broker.head()), { ok: false, reason: 'unknown_id' }, id);
      }
    } finally {
      await broker.close();
      await other.close();
    }
  });

  it('age retention: trims events older than maxAgeMs when the log is appended to', async () => {
    const { broker, clock } = await started({ maxAgeMs: 1000 });
    try {
      const e = broker.epoch;
      await broker.append([draft(1)]); // seq 1 at T0
      clock.now = T0 + 500;
      await broker.append([draft(2)]); // seq 2 at T0+500
      clock.now = T0 + 1000;
      await broker.append([draft(3)]); // seq 3 at T0+1000; seq 1 is exactly maxAgeMs old and kept
      assert.deepEqual(okIds(await broker.read(`${e}-1`, broker.head())), [`${e}-2`, `${e}-3`]);
      clock.now = T0 + 1200;
      await broker.append([draft(4)]); // cutoff T0+200: seq 1 trimmed
      // The event just before the oldest retained one: nothing after it is gone.
      assert.deepEqual(okIds(await broker.read(`${e}-1`, broker.head())), [`${e}-2`, `${e}-3`, `${e}-4`]);
      clock.now = T0 + 1600;
      await broker.append([draft(5)]); // cutoff T0+600: seq 2 trimmed
      assert.deepEqual(await broker.read(`${e}-1`, broker.head()), { ok: false, reason: 'expired' });
      assert.deepEqual(okIds(await broker.read(`${e}-2`, broker.head())), [`${e}-3`, `${e}-4`, `${e}-5`]);
      assert.deepEqual(okIds(await broker.read(`${e}-3`, broker.head())), [`${e}-4`, `${e}-5`]);
      clock.now = T0 + 10_000;
      await broker.append([draft(6)]); // everything but seq 6 trimmed
      assert.deepEqual(await broker.read(`${e}-4`, broker.head()), { ok: false, reason: 'expired' });
      assert.deepEqual(okIds(await broker.read(`${e}-5`, broker.head())), [`${e}-6`]);
      assert.deepEqual(okIds(await broker.read(`${e}-6`, broker.head())), []);
      assert.equal(broker.head(), pos(6));
    } finally {
      await broker.close();
    }
  });

  it('age retention: keeps an event exactly maxAgeMs old and trims it one millisecond later', async () => {
    const { broker, clock } = await started({ maxAgeMs: 1000 });
    try {
      const e = broker.epoch;
      await broker.append([draft(1), draft(2)]); // seq 1 and 2 at T0
      clock.now = T0 + 1000;
      await broker.append([draft(3)]);
      assert.deepEqual(okIds(await broker.read(`${e}-1`, broker.head())), [`${e}-2`, `${e}-3`]);
      clock.now = T0 + 1001;
      await broker.append([draft(4)]);
      assert.deepEqual(await broker.read(`${e}-1`, broker.head()), { ok: false, reason: 'expired' });
      assert.deepEqual(okIds(await broker.read(`${e}-2`, broker.head())), [`${e}-3`, `${e}-4`]);
    } finally {
      await broker.close();
    }
  });

  it('count retention: keeps the newest maxEvents events', async () => {
    const { broker } = await started({ maxEvents: 3 });
    try {
      const e = broker.epoch;
      for (let n = 1; n <= 5; n++) await broker.append([draft(n)]);
      assert.deepEqual(await broker.read(`${e}-1`, broker.head()), { ok: false, reason: 'expired' });
      assert.deepEqual(okIds(await broker.read(`${e}-2`, broker.head())), [`${e}-3`, `${e}-4`, `${e}-5`]);
      assert.deepEqual(okIds(await broker.read(`${e}-4`, broker.head())), [`${e}-5`]);
    } finally {
      await broker.close();
    }
  });

  it('count retention: a batch larger than maxEvents is tailed whole and then trimmed', async () => {
    const { broker, tailed } = await started({ maxEvents: 3 });
    try {
      const e = broker.epoch;
      const results = await broker.append([1, 2, 3, 4, 5].map((n) => draft(n)));
      assert.equal(results.length, 5);
      assert.equal(tailed.length, 5);
      assert.deepEqual(await broker.read(`${e}-1`, broker.head()), { ok: false, reason: 'expired' });
      assert.deepEqual(okIds(await broker.read(`${e}-2`, broker.head())), [`${e}-3`, `${e}-4`, `${e}-5`]);
    } finally {
      await broker.close();
    }
  });

  it('count retention stays correct over many trims (internal compaction)', async () => {
    const { broker } = await started({ maxEvents: 10 });
    try {
      const e = broker.epoch;
      for (let n = 1; n <= 3000; n++) await broker.append([draft(n, n % 7 === 0 ? `p${n}` : undefined)]);
      const idOf = (n: number): string => (n % 7 === 0 ? `p${n}` : `${e}-${n}`);
      assert.equal(broker.head(), pos(3000));
      assert.deepEqual(await broker.read(`${e}-2989`, broker.head()), { ok: false, reason: 'expired' });
      const expected = Array.from({ length: 10 }, (_, i) => idOf(2991 + i));
      assert.deepEqual(okIds(await broker.read(`${e}-2990`, broker.head())), expected);
      assert.deepEqual(okIds(await broker.read(idOf(2995), broker.head())), expected.slice(5));
      assert.deepEqual(await broker.read('p2989', broker.head()), { ok: false, reason: 'unknown_id' }, 'trimmed publisher id');
    } finally {
      await broker.close();
    }
  });

  it('forgets a publisher id once its event is trimmed, so it is unknown and can be published again', async () => {
    const { broker, tailed } = await started({ maxEvents: 2 });
    try {
      const e = broker.epoch;
      await broker.append([draft(1, 'once')]); // seq 1
      await broker.append([draft(2)]); // seq 2
      assert.deepEqual(okIds(await broker.read('once', broker.head())), [`${e}-2`]);
      assert.deepEqual(await broker.append([draft(3, 'once')]), [{ id: 'once', duplicate: true }]);
      await broker.append([draft(4)]); // seq 3; seq 1 ("once") trimmed
      assert.deepEqual(await broker.read('once', broker.head()), { ok: false, reason: 'unknown_id' });
      assert.deepEqual(await broker.append([draft(5, 'once')]), [{ id: 'once', duplicate: false }]); // seq 4
      assert.deepEqual(
        tailed.map((t) => t.id),
        ['once', `${e}-2`, `${e}-3`, 'once'],
      );
      assert.equal(broker.head(), pos(4));
      assert.deepEqual(okIds(await broker.read('once', broker.head())), []);
      assert.deepEqual(okIds(await broker.read(`${e}-3`, broker.head())), ['once']);
    } finally {
      await broker.close();
    }
  });

  it('forgets a publisher id trimmed by age too', async () => {
    const { broker, clock } = await started({ maxAgeMs: 100 });
    try {
      await broker.append([draft(1, 'aged')]);
      clock.now = T0 + 101;
      await broker.append([draft(2)]);
      assert.deepEqual(await broker.read('aged', broker.head()), { ok: false, reason: 'unknown_id' });
      assert.deepEqual(await broker.append([draft(3, 'aged')]), [{ id: 'aged', duplicate: false }]);
    } finally {
      await broker.close();
    }
  });

  it('refuses appends after close and a second start', async () => {
    const { broker } = await started();
    assert.equal(broker.isReady(), true);
    await assert.rejects(
      broker.start(() => undefined),
      /already/,
    );
    await broker.close();
    assert.equal(broker.isReady(), false);
    await rejectsWith(broker.append([draft(1)]), 'broker_unavailable');
    assert.equal(broker.head(), null);
  });

  it('validates its options', () => {
    assert.throws(() => new MemoryBroker({ maxEvents: 0 }), TypeError);
    assert.throws(() => new MemoryBroker({ maxEvents: 1.5 }), TypeError);
    assert.throws(() => new MemoryBroker({ maxAgeMs: 0 }), TypeError);
    assert.throws(() => new MemoryBroker({ maxAgeMs: Number.NaN }), TypeError);
  });

  it('gives each instance its own epoch', () => {
    const epochs = new Set(Array.from({ length: 20 }, () => new MemoryBroker().epoch));
    assert.equal(epochs.size, 20);
  });
});
