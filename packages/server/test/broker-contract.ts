/**
 * The contract every Broker must pass. Each implementation's test file calls
 * runBrokerContract with a factory; the suite exercises only the Broker interface.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Broker, LogEvent } from '../src/index.js';
import { HeraldError } from '../src/index.js';
import { waitUntil } from './helpers/hub.js';

/**
 * Makes a fresh, empty broker keeping at most `maxEvents` events. `peer`, where the
 * broker can share its log, makes another broker on the same log (as another node's).
 */
export type BrokerFactory = (settings: { maxEvents: number }) => Promise<{ broker: Broker; peer?: () => Broker; cleanup(): Promise<void> }>;

interface Started {
  broker: Broker;
  seen: LogEvent[];
  /** Started brokers on the same log: this one, and a started peer where the broker has one. */
  nodes(): Promise<Broker[]>;
  cleanup(): Promise<void>;
}

async function start(factory: BrokerFactory, maxEvents = 1000): Promise<Started> {
  const { broker, peer, cleanup } = await factory({ maxEvents });
  const seen: LogEvent[] = [];
  await broker.start((events) => seen.push(...events));
  const peers: Broker[] = [];
  return {
    broker,
    seen,
    nodes: async () => {
      if (peer !== undefined && peers.length === 0) {
        const other = peer();
        await other.start(() => undefined);
        peers.push(other);
      }
      return [broker, ...peers];
    },
    cleanup: async () => {
      for (const other of peers) await other.close();
      await broker.close();
      await cleanup();
    },
  };
}

const draft = (n: number, extra: { id?: string; topic?: string } = {}) => ({
  topic: extra.topic ?? `t/${n % 3}`,
  type: 'test',
  data: { n },
  ...(extra.id === undefined ? {} : { id: extra.id }),
});

/** Runs the contract; `skip` is a reason to skip the whole suite (a service that is not there), or false. */
export function runBrokerContract(name: string, factory: BrokerFactory, skip: string | false = false): void {
  describe(`Broker contract: ${name}`, { skip }, () => {
    it('appends in order, returns one result per draft, and tails every event once in log order', async () => {
      const { broker, seen, cleanup } = await start(factory);
      try {
        assert.equal(broker.isReady(), true);
        const first = await broker.append([draft(0), draft(1), draft(2)]);
        const second = await broker.append([draft(3)]);
        const ids = [...first, ...second].map((r) => r.id);
        assert.equal(new Set(ids).size, 4, 'ids are unique');
        assert.ok([...first, ...second].every((r) => r.duplicate === false));
        await waitUntil(() => seen.length === 4, 'the tail to deliver 4 events');
        assert.deepEqual(
          seen.map((e) => e.id),
          ids,
        );
        assert.deepEqual(
          seen.map((e) => (e.envelope.data as { n: number }).n),
          [0, 1, 2, 3],
        );
        for (const event of seen) {
          assert.equal(event.envelope.type, 'test');
          assert.match(event.envelope.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
          assert.deepEqual(JSON.parse(event.json), event.envelope);
        }
      } finally {
        await cleanup();
      }
    });

    it('reads the events after an id up to the head, and nothing past the head', async () => {
      const { broker, seen, cleanup } = await start(factory);
      try {
        assert.equal(broker.head(), null);
        const results = await broker.append([0, 1, 2, 3, 4].map((n) => draft(n)));
        await waitUntil(() => seen.length === 5, 'the tail');
        const head = broker.head();
        assert.notEqual(head, null);
        await broker.append([draft(5)]);
        await waitUntil(() => seen.length === 6, 'the tail');
        const read = await broker.read(results[1]!.id, head);
        assert.ok(read.ok);
        assert.deepEqual(
          read.events.map((e) => e.id),
          results.slice(2).map((r) => r.id),
        );
        const fromLast = await broker.read(results[4]!.id, head);
        assert.ok(fromLast.ok);
        assert.equal(fromLast.events.length, 0);
      } finally {
        await cleanup();
      }
    });

    it('keeps a publisher id as the event id and answers a repeat with the original, appending nothing', async () => {
      const { broker, seen, cleanup } = await start(factory);
      try {
        const [a] = await broker.append([draft(0, { id: 'order-17' })]);
        assert.deepEqual(a, { id: 'order-17', duplicate: false });
        const again = await broker.append([draft(1, { id: 'order-17' }), draft(2), draft(3, { id: 'order-18' }), draft(4, { id: 'order-18' })]);
        assert.deepEqual(
          again.map((r) => [r.id, r.duplicate]),
          [
            ['order-17', true],
            [again[1]!.id, false],
            ['order-18', false],
            ['order-18', true],
          ],
        );
        await waitUntil(() => seen.length === 3, 'three appended events');
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.deepEqual(
          seen.map((e) => (e.envelope.data as { n: number }).n),
          [0, 2, 3],
          'duplicates never reach the tail',
        );
      } finally {
        await cleanup();
      }
    });

    it('resumes from a publisher id like any other id', async () => {
      const { broker, seen, cleanup } = await start(factory);
      try {
        await broker.append([draft(0), draft(1, { id: 'pub-1' }), draft(2), draft(3)]);
        await waitUntil(() => seen.length === 4, 'the tail');
        const read = await broker.read('pub-1', broker.head());
        assert.ok(read.ok);
        assert.deepEqual(
          read.events.map((e) => (e.envelope.data as { n: number }).n),
          [2, 3],
        );
      } finally {
        await cleanup();
      }
    });

    it('answers unknown_id for ids it never issued', async () => {
      const { broker, seen, cleanup } = await start(factory);
      try {
        await broker.append([draft(0)]);
        await waitUntil(() => seen.length === 1, 'the tail');
        for (const id of ['never-issued', 'ffffffffff-1', '0-0']) {
          const read = await broker.read(id, broker.head());
          assert.deepEqual(read, { ok: false, reason: 'unknown_id' }, id);
        }
      } finally {
        await cleanup();
      }
    });

    it('answers expired once events after the id have been trimmed, and keeps what is retained readable', async () => {
      const { broker, seen, cleanup } = await start(factory, 5);
      try {
        // One at a time, letting the tail keep up: a tail that falls further behind
        // than retention is the gap case, tested where the broker reports gaps.
        const ids: string[] = [];
        for (let n = 0; n < 12; n++) {
          ids.push((await broker.append([draft(n)]))[0]!.id);
          await waitUntil(() => seen.length === n + 1, 'the tail');
        }
        const head = broker.head();
        const old = await broker.read(ids[2]!, head);
        assert.deepEqual(old, { ok: false, reason: 'expired' });
        // The event just before the oldest retained one: nothing the client needs is gone.
        const edge = await broker.read(ids[6]!, head);
        assert.ok(edge.ok);
        assert.deepEqual(
          edge.events.map((e) => e.id),
          ids.slice(7),
        );
      } finally {
        await cleanup();
      }
    });

    it('lease: at most one holder among several leases of one name, on every broker of the log', async () => {
      const { nodes, cleanup } = await start(factory);
      try {
        const brokers = await nodes();
        // A short TTL, so the sampling below spans several renewals on brokers that renew.
        const leases = [0, 1, 2, 3].map((i) => brokers[i % brokers.length]!.lease('bridge', { ttlMs: 300 }));
        await Promise.all(leases.map((lease) => lease.ready));
        await waitUntil(() => leases.some((lease) => lease.held()), 'a holder');
        const until = Date.now() + 500;
        while (Date.now() < until) {
          assert.ok(leases.filter((lease) => lease.held()).length <= 1, 'never two holders at once');
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        await Promise.all(leases.map((lease) => lease.release()));
        assert.ok(
          leases.every((lease) => !lease.held()),
          'released leases are not held',
        );
      } finally {
        await cleanup();
      }
    });

    it('lease: a released lease is taken by another, and a released one is never held again', async () => {
      const { nodes, cleanup } = await start(factory);
      try {
        const brokers = await nodes();
        const changes: boolean[] = [];
        const first = brokers[0]!.lease('relay', { ttlMs: 300, onChange: (held) => changes.push(held) });
        await first.ready;
        assert.equal(first.held(), true, 'the only lease of a name is held once ready');
        const second = brokers[brokers.length - 1]!.lease('relay', { ttlMs: 300 });
        await second.ready;
        assert.equal(second.held(), false);
        await first.release();
        assert.equal(first.held(), false);
        await waitUntil(() => second.held(), 'the other lease to take over');
        assert.equal(first.held(), false);
        assert.deepEqual(changes, [true, false]);
        await second.release();
      } finally {
        await cleanup();
      }
    });

    it('lease: names are independent', async () => {
      const { nodes, cleanup } = await start(factory);
      try {
        const brokers = await nodes();
        const a = brokers[0]!.lease('bridge:a');
        const b = brokers[brokers.length - 1]!.lease('bridge:b');
        await Promise.all([a.ready, b.ready]);
        assert.equal(a.held(), true);
        assert.equal(b.held(), true);
        await a.release();
        assert.equal(b.held(), true, 'releasing one name leaves the other');
        await b.release();
      } finally {
        await cleanup();
      }
    });

    it('lease: closing the broker ends its leases; an empty name is refused', async () => {
      const { broker, cleanup } = await start(factory);
      const lease = broker.lease('bridge');
      await lease.ready;
      assert.equal(lease.held(), true);
      assert.throws(() => broker.lease(''), TypeError);
      await broker.close();
      assert.equal(lease.held(), false);
      await cleanup();
    });

    it('names an empty log with positionId(null), and reading after it gives everything appended since', async () => {
      const { broker, seen, cleanup } = await start(factory);
      try {
        assert.equal(broker.head(), null);
        const empty = broker.positionId(null);
        const before = await broker.read(empty, null);
        assert.ok(before.ok, 'the position of an empty log is readable');
        assert.deepEqual(before.events, []);
        const results = await broker.append([draft(0), draft(1, { id: 'pub-a' }), draft(2)]);
        await waitUntil(() => seen.length === 3, 'the tail');
        const read = await broker.read(empty, broker.head());
        assert.ok(read.ok);
        assert.deepEqual(
          read.events.map((e) => e.id),
          results.map((r) => r.id),
        );
      } finally {
        await cleanup();
      }
    });

    it('round-trips positionId(head) through read, also when the event at the head has a publisher id', async () => {
      const { broker, seen, cleanup } = await start(factory);
      try {
        await broker.append([draft(0), draft(1, { id: 'pub-last' })]);
        await waitUntil(() => seen.length === 2, 'the tail');
        const position = broker.positionId(broker.head());
        assert.notEqual(position, 'pub-last', 'a position names the place in the log, not the event');
        const none = await broker.read(position, broker.head());
        assert.ok(none.ok);
        assert.deepEqual(none.events, []);
        assert.equal(none.after, broker.head(), 'reading after the head position resumes exactly there');
        const later = await broker.append([draft(2), draft(3, { id: 'pub-next' })]);
        await waitUntil(() => seen.length === 4, 'the tail');
        const read = await broker.read(position, broker.head());
        assert.ok(read.ok);
        assert.deepEqual(
          read.events.map((e) => e.id),
          later.map((r) => r.id),
        );
      } finally {
        await cleanup();
      }
    });

    it('answers expired for the empty-log position once retention has removed anything', async () => {
      const { broker, seen, cleanup } = await start(factory, 2);
      try {
        const empty = broker.positionId(broker.head());
        for (let n = 0; n < 3; n++) {
          await broker.append([draft(n)]);
          await waitUntil(() => seen.length === n + 1, 'the tail');
        }
        assert.deepEqual(await broker.read(empty, broker.head()), { ok: false, reason: 'expired' });
      } finally {
        await cleanup();
      }
    });

    it('rejects appends after close', async () => {
      const { broker, cleanup } = await start(factory);
      await broker.close();
      await assert.rejects(broker.append([draft(0)]), (error: unknown) => error instanceof HeraldError);
      assert.equal(broker.isReady(), false);
      await cleanup();
    });
  });
}
