// The `filter` option of subscribe(): what the client asks the hub for (fakes), and
// what a subscriber receives from a real hub over both transports, removals included.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient, type HeraldError, type HeraldEvent } from '../src/index.js';
import { FakeClock, FakeTransports, flush } from './fakes.js';
import { startHub, subscribeAndWait, testClient, waitUntil, type RunningHub } from './helpers/setup.js';

const OPEN = 'data.resolved = false';
const ABC = "data.session_id = 'abc'";

function fakeClient(transport: 'websocket' | 'sse') {
  const transports = new FakeTransports();
  const client = createClient({ url: 'http://hub.test', transport, transports: transports.both, clock: new FakeClock(), onOnline: () => () => undefined });
  return { client, transports };
}

const subscribes = (sent: ReadonlyArray<Record<string, unknown>>) =>
  sent.filter((m) => m['type'] === 'subscribe').map((m) => ({ topics: m['topics'], filter: m['filter'] }));

describe('subscribe({ filter }) on the wire', () => {
  it('websocket: each pattern carries the filter its subscriptions share; a pattern they disagree on goes unfiltered', async () => {
    const { client, transports } = fakeClient('websocket');
    client.subscribe('alerts', { onEvent: () => undefined, filter: OPEN });
    client.subscribe('sessions', { onEvent: () => undefined });
    await flush();
    const ws = transports.last;
    ws.connected();
    await flush();
    assert.deepEqual(subscribes(ws.sent), [
      { topics: ['alerts'], filter: OPEN },
      { topics: ['sessions'], filter: undefined },
    ]);
    ws.acknowledge();
    ws.sent.length = 0;
    // Another view of alerts with another filter: the hub keeps one filter per pattern, so alerts goes unfiltered.
    const stop = client.subscribe('alerts', { onEvent: () => undefined, filter: ABC });
    await flush();
    assert.deepEqual(subscribes(ws.sent), [{ topics: ['alerts'], filter: undefined }]);
    ws.acknowledge();
    ws.sent.length = 0;
    // It leaves: alerts gets its filter back.
    stop();
    await flush();
    assert.deepEqual(subscribes(ws.sent), [{ topics: ['alerts'], filter: OPEN }]);
    client.close();
  });

  it('websocket: a subscription whose patterns need different filters is confirmed once every request is', async () => {
    const { client, transports } = fakeClient('websocket');
    client.subscribe('sessions', { onEvent: () => undefined });
    let confirmed = 0;
    client.subscribe(['sessions', 'alerts'], { onEvent: () => undefined, filter: OPEN, onSubscribed: () => confirmed++ });
    await flush();
    const ws = transports.last;
    ws.connected();
    await flush();
    const asked = ws.sent.filter((m) => m['type'] === 'subscribe');
    assert.deepEqual(
      asked.map((m) => [m['topics'], m['filter']]),
      [
        [['sessions'], undefined],
        [['alerts'], OPEN],
      ],
    );
    ws.message({ type: 'subscribed', topics: ['sessions'], ref: asked[0]!['ref'] });
    assert.equal(confirmed, 0);
    ws.message({ type: 'subscribed', topics: ['alerts'], ref: asked[1]!['ref'] });
    assert.equal(confirmed, 1);
    client.close();
  });

  it('sse: the stream carries the filter when every subscription has it, and reopens when that changes', async () => {
    const { client, transports } = fakeClient('sse');
    client.subscribe(['alerts', 'sessions'], { onEvent: () => undefined, filter: OPEN });
    await flush();
    assert.equal(transports.last.request.filter, OPEN);
    transports.last.connected(1000, 'p-1');
    const stop = client.subscribe('alerts', { onEvent: () => undefined });
    await flush();
    assert.equal(transports.attempts.length, 2, 'a new stream');
    assert.equal(transports.last.request.filter, undefined, 'subscriptions disagree: no stream filter');
    transports.last.connected(1000, 'p-1');
    stop();
    await flush();
    assert.equal(transports.attempts.length, 3);
    assert.equal(transports.last.request.filter, OPEN);
    client.close();
  });
});

describe('subscribe({ filter }) against a real hub', () => {
  let running: RunningHub;
  before(async () => {
    running = await startHub();
  });
  after(() => running.close());

  const change = (data: object | null, old: object | null) => ({ table: 'alerts', action: 'X', data, old_data: old });

  for (const transport of ['websocket', 'sse'] as const) {
    it(`${transport}: only matching events arrive; a row leaving the filter arrives with removed: true; a delete on its old row`, async (t) => {
      const client = testClient({ url: running.url, transport });
      t.after(() => client.close());
      const topic = `alerts-${transport}`;
      const events: HeraldEvent[] = [];
      await subscribeAndWait(client, topic, {
        onEvent: (event) => events.push(event),
        filter: "data.session_id = 'abc' and (data.resolved = false or data.level = 'high')",
      });
      const row = (id: number, session_id: string, resolved: boolean, level = 'low') => ({ id, session_id, resolved, level });
      await running.hub.publish([
        { topic, type: 'insert', data: change(row(1, 'abc', false), null) },
        { topic, type: 'insert', data: change(row(2, 'xyz', false), null) },
        { topic, type: 'update', data: change(row(1, 'abc', true), row(1, 'abc', false)) },
        { topic, type: 'insert', data: change(row(3, 'abc', true, 'high'), null) },
        { topic, type: 'delete', data: change(null, row(3, 'abc', true, 'high')) },
        { topic, type: 'insert', data: change(row(4, 'abc', false), null) },
      ]);
      await waitUntil(() => events.length === 5, 'five events');
      assert.deepEqual(
        events.map((e) => [e.type, (e.data as { data: { id: number } | null; old_data: { id: number } | null }).data?.id ?? null, e.removed ?? false]),
        [
          ['insert', 1, false],
          ['update', 1, true],
          ['insert', 3, false],
          ['delete', null, false],
          ['insert', 4, false],
        ],
      );
    });
  }

  it('websocket: a filter the hub refuses reaches onError with invalid_filter, and the rest goes on', async (t) => {
    const client = testClient({ url: running.url, transport: 'websocket' });
    t.after(() => client.close());
    const errors: HeraldError[] = [];
    client.subscribe('bad', { onEvent: () => undefined, filter: 'a = ', onError: (error) => errors.push(error) });
    const events: HeraldEvent[] = [];
    await subscribeAndWait(client, 'good', { onEvent: (event) => events.push(event) });
    await waitUntil(() => errors.length === 1, 'the refusal');
    assert.equal(errors[0]!.code, 'invalid_filter');
    await running.hub.publish({ topic: 'good', data: 1 });
    await waitUntil(() => events.length === 1, 'the event');
    assert.equal(client.state, 'connected');
  });
});
