// Filters over change events (`{data, old_data}` as `herald pg triggers` publishes
// them): a delete matches on its old row, a row that leaves a view reaches that
// view as a removal (`"removed": true`), live and replayed, on both transports,
// with the removal encoded once however many subscribers get it.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { closeSubscribers, ids, sseOpen, waitForId, WsSubscriber, type Message } from './helpers/clients.js';
import { RedisBroker } from '../src/broker/redis.js';
import { metric, publish, startHub, type RunningHub } from './helpers/hub.js';
import { dropPrefix, REDIS_URL, redisSkipReason, testPrefix } from './helpers/redis.js';

const redisSkip = await redisSkipReason();

/** The logs to run against: memory, and Redis (whose reads build new event objects) when it is there. */
const LOGS: ReadonlyArray<{ name: string; skip: string | false; start: () => Promise<RunningHub & { cleanup?: () => Promise<void> }> }> = [
  { name: 'memory log', skip: false, start: () => startHub() },
  {
    name: 'Redis log',
    skip: redisSkip,
    start: async () => {
      const prefix = testPrefix();
      const running = await startHub({ broker: new RedisBroker({ url: REDIS_URL, prefix, blockMs: 200 }) });
      return { ...running, cleanup: () => dropPrefix(prefix) };
    },
  },
];

const FILTER = "data.session_id = 'abc' and data.resolved = false";

type Row = { id: string; session_id: string; resolved: boolean };
const row = (id: string, session_id: string, resolved: boolean): Row => ({ id, session_id, resolved });
const change = (type: 'insert' | 'update' | 'delete', data: Row | null, old: Row | null) => ({
  topic: 'sessions',
  type,
  data: { table: 'sessions', action: type.toUpperCase(), data, old_data: old, timestamp: '2026-12-04T20:00:00.000Z' },
});

/** The changes, each with how a subscriber of FILTER receives it. */
const STORY: ReadonlyArray<readonly [ReturnType<typeof change>, 'deliver' | 'remove' | 'skip']> = [
  [change('insert', row('a1', 'abc', false), null), 'deliver'],
  [change('insert', row('b1', 'xyz', false), null), 'skip'],
  [change('update', row('a1', 'abc', true), row('a1', 'abc', false)), 'remove'],
  [change('update', row('b1', 'abc', false), row('b1', 'xyz', false)), 'deliver'],
  [change('update', row('b1', 'abc', false), row('b1', 'abc', false)), 'deliver'],
  [change('delete', null, row('b1', 'abc', false)), 'deliver'],
  [change('delete', null, row('a1', 'abc', true)), 'skip'],
  [change('update', row('c1', 'xyz', true), row('c1', 'xyz', false)), 'skip'],
];

/** [id, removed] of the events a subscriber should see, in order. */
function expected(published: readonly string[]): Array<[string, boolean]> {
  return STORY.flatMap(([, verdict], i) => (verdict === 'skip' ? [] : [[published[i]!, verdict === 'remove'] as [string, boolean]]));
}

const seen = (events: readonly Message[]): Array<[string, boolean]> => events.map((e) => [e['id'] as string, e['removed'] === true]);

describe('filters over change events', () => {
  afterEach(closeSubscribers);

  for (const log of LOGS)
    it(
      `${log.name}: deletes match on the old row and rows leaving the view arrive as removals: SSE and WebSocket, live and replayed`,
      { timeout: 60_000, skip: log.skip },
      async () => {
        const running = await log.start();
        const sockets: WsSubscriber[] = [];
        try {
          const [start] = (await publish(running.url, { topic: 'sessions', type: 'start', data: null })).body.ids as string[];
          const sse = await sseOpen(running.url, ['sessions'], { query: { filter: FILTER } });
          const ws = await WsSubscriber.open(running.url);
          sockets.push(ws);
          assert.equal((await ws.request({ type: 'subscribe', topics: ['sessions'], filter: FILTER }))['type'], 'subscribed');
          const { body } = await publish(
            running.url,
            STORY.map(([draft]) => draft),
          );
          const published = body.ids as string[];
          const want = expected(published);
          const last = want.at(-1)![0];
          const replaySse = await sseOpen(running.url, ['sessions'], { lastEventId: start!, query: { filter: FILTER } });
          const replayWs = await WsSubscriber.open(running.url, `?topic=sessions&since=${start}&filter=${encodeURIComponent(FILTER)}`);
          sockets.push(replayWs);
          for (const inbox of [sse.inbox, ws.inbox, replaySse.inbox, replayWs.inbox]) await waitForId(inbox, last);
          // A later matching event: nothing else was on its way.
          const [after] = (await publish(running.url, change('insert', row('d1', 'abc', false), null))).body.ids as string[];
          for (const inbox of [sse.inbox, ws.inbox, replaySse.inbox, replayWs.inbox]) {
            await waitForId(inbox, after!);
            assert.deepEqual(seen(inbox.events), [...want, [after!, false]]);
          }
          // The removal is the published event plus the marker: same id, topic, type and data.
          const removal = sse.inbox.events.find((e) => e['removed'] === true)!;
          const source = STORY[2]![0];
          assert.deepEqual(removal, { id: published[2], topic: 'sessions', type: 'update', data: source.data, timestamp: removal['timestamp'], removed: true });
          assert.deepEqual(Object.keys(removal), ['id', 'topic', 'type', 'data', 'timestamp', 'removed'], 'the marker comes last');
          assert.deepEqual(
            replayWs.inbox.events.find((e) => e['removed'] === true),
            removal,
            'replayed removals are the same bytes as live ones',
          );
          replaySse.close();
          sse.close();
        } finally {
          for (const socket of sockets) socket.close();
          await running.close();
          await running.cleanup?.();
        }
      },
    );

  it('an unfiltered pattern, or a filter that still matches, gets the event itself', { timeout: 60_000 }, async () => {
    const running = await startHub();
    const ws = await WsSubscriber.open(running.url);
    try {
      assert.equal((await ws.request({ type: 'subscribe', topics: ['sessions'], filter: FILTER }))['type'], 'subscribed');
      assert.equal((await ws.request({ type: 'subscribe', topics: ['sessions/**'], filter: "data.session_id = 'abc'" }))['type'], 'subscribed');
      const leaving = change('update', row('a1', 'abc', true), row('a1', 'abc', false));
      const [id] = (await publish(running.url, leaving)).body.ids as string[];
      await waitForId(ws.inbox, id!);
      assert.deepEqual(seen(ws.inbox.events), [[id!, false]], "still in the view of sessions/**'s filter: delivered as is, once");
    } finally {
      ws.close();
      await running.close();
    }
  });

  it('a removal is encoded once per transport, shared by every subscriber that gets it', { timeout: 60_000 }, async () => {
    const running = await startHub();
    const sockets: WsSubscriber[] = [];
    try {
      const sses = await Promise.all([1, 2, 3].map(() => sseOpen(running.url, ['sessions'], { query: { filter: FILTER } })));
      for (let i = 0; i < 3; i++) sockets.push(await WsSubscriber.open(running.url, `?topic=sessions&filter=${encodeURIComponent(FILTER)}`));
      const before = {
        sse: await metric(running.url, 'herald_frames_encoded_total{transport="sse"}'),
        ws: await metric(running.url, 'herald_frames_encoded_total{transport="ws"}'),
      };
      const [id] = (await publish(running.url, change('update', row('a1', 'abc', true), row('a1', 'abc', false)))).body.ids as string[];
      for (const inbox of [...sses.map((s) => s.inbox), ...sockets.map((s) => s.inbox)]) {
        await waitForId(inbox, id!);
        assert.deepEqual(seen(inbox.events), [[id!, true]]);
      }
      assert.equal(await metric(running.url, 'herald_frames_encoded_total{transport="sse"}'), before.sse + 1, 'one SSE encoding for six subscribers');
      assert.equal(await metric(running.url, 'herald_frames_encoded_total{transport="ws"}'), before.ws + 1, 'one WebSocket encoding');
      assert.deepEqual(ids(sses[0]!.inbox.events), [id]);
      for (const sse of sses) sse.close();
    } finally {
      for (const socket of sockets) socket.close();
      await running.close();
    }
  });
});
