import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openSse, WsSubscriber } from './helpers/clients.js';
import { metric, publish, publishMany, sleep, startHub, type RunningHub } from './helpers/hub.js';

describe('reset', () => {
  let running: RunningHub;
  before(async () => {
    running = await startHub({ historySize: 5 });
  });
  after(() => running.close());

  it('sends reset (unknown_id) for an id from another run, then continues live', async () => {
    const other = await startHub();
    const [foreign] = await publishMany(other.url, 'r/unknown', 1);
    await other.close();
    const sse = await openSse(running.url, ['r/unknown', 'r/also'], { lastEventId: foreign! });
    const [connected] = sse.inbox.messages;
    assert.equal(connected!['type'], 'connected');
    assert.equal(connected!['resumed'], false);
    await sse.inbox.waitForControl('reset');
    await sleep(20);
    assert.deepEqual(
      sse.inbox.messages.slice(1).map((m) => [m['type'], m['topic'], m['reason']]),
      [
        ['reset', 'r/unknown', 'unknown_id'],
        ['reset', 'r/also', 'unknown_id'],
      ],
    );
    const [live] = await publishMany(running.url, 'r/unknown', 1);
    const [event] = await sse.inbox.waitForEvents(1);
    assert.equal(event!['id'], live);
    sse.close();
  });

  it('sends reset (expired) when events after the id were trimmed, and resumes from the oldest edge', async () => {
    const ids = await publishMany(running.url, 'r/expired', 20);
    const before = await metric(running.url, 'herald_resets_total{reason="expired"}');
    const stale = await openSse(running.url, ['r/expired'], { lastEventId: ids[2]! });
    const reset = await stale.inbox.waitForControl('reset');
    assert.deepEqual([reset['topic'], reset['reason']], ['r/expired', 'expired']);
    assert.equal(stale.inbox.events.length, 0, 'no partial history after a reset');
    assert.equal(await metric(running.url, 'herald_resets_total{reason="expired"}'), before + 1);
    stale.close();
    // historySize 5 keeps ids[15..19]; a client holding ids[14] misses nothing.
    const edge = await openSse(running.url, ['r/expired'], { lastEventId: ids[14]! });
    await edge.inbox.waitForEvents(5);
    assert.deepEqual(
      edge.inbox.events.map((e) => e['id']),
      ids.slice(15),
    );
    assert.equal(edge.inbox.control('connected')[0]!['resumed'], true);
    assert.equal(edge.inbox.control('reset').length, 0);
    edge.close();
  });

  it('answers a WebSocket subscribe with an unknown since by subscribed, then reset, then live events', async () => {
    const ws = await WsSubscriber.open(running.url);
    const reply = await ws.request({ type: 'subscribe', topics: ['r/ws'], since: 'no-such-id' });
    assert.equal(reply['type'], 'subscribed');
    const reset = await ws.inbox.waitForControl('reset');
    assert.deepEqual([reset['topic'], reset['reason']], ['r/ws', 'unknown_id']);
    const [live] = await publishMany(running.url, 'r/ws', 1);
    const [event] = await ws.inbox.waitForEvents(1);
    assert.equal(event!['id'], live);
    const types = ws.inbox.messages.map((m) => m['type']);
    assert.deepEqual(types.slice(0, 3), ['connected', 'subscribed', 'reset']);
    ws.close();
  });
});

describe('publisher id dedupe', () => {
  let running: RunningHub;
  before(async () => {
    running = await startHub();
  });
  after(() => running.close());

  it('keeps a publisher id, answers a retry with the same id, and delivers the event once', async () => {
    const sse = await openSse(running.url, ['orders']);
    const first = await publish(running.url, { topic: 'orders', type: 'created', data: { n: 1 }, id: 'order-1-created' });
    const retry = await publish(running.url, { topic: 'orders', type: 'created', data: { n: 1 }, id: 'order-1-created' });
    assert.deepEqual([first.status, first.body], [201, { ids: ['order-1-created'] }]);
    assert.deepEqual([retry.status, retry.body], [201, { ids: ['order-1-created'] }]);
    const batch = await publish(running.url, [
      { topic: 'orders', data: 2, id: 'order-2' },
      { topic: 'orders', data: 2, id: 'order-2' },
      { topic: 'orders', data: 3 },
    ]);
    assert.equal(batch.body.ids[0], 'order-2');
    assert.equal(batch.body.ids[1], 'order-2');
    await sse.inbox.waitForEvents(3);
    await sleep(30);
    assert.deepEqual(
      sse.inbox.events.map((e) => e['id']),
      ['order-1-created', 'order-2', batch.body.ids[2]],
    );
    sse.close();
  });

  it('reports duplicates over WebSocket publish', async () => {
    const ws = await WsSubscriber.open(running.url, '?topic=ws-orders');
    const a = await ws.request({ type: 'publish', topic: 'ws-orders', data: 1, id: 'w-1' });
    const b = await ws.request({ type: 'publish', topic: 'ws-orders', data: 1, id: 'w-1' });
    assert.deepEqual([a['id'], a['duplicate']], ['w-1', false]);
    assert.deepEqual([b['id'], b['duplicate']], ['w-1', true]);
    await ws.request({ type: 'ping' });
    assert.equal(ws.inbox.events.length, 1);
    ws.close();
  });

  it('rejects a publisher id that imitates the hub id format', async () => {
    const [generated] = await publishMany(running.url, 'ids', 1);
    const epoch = generated!.slice(0, generated!.lastIndexOf('-'));
    const { status, body } = await publish(running.url, { topic: 'ids', data: 1, id: `${epoch}-999999` });
    assert.equal(status, 400);
    assert.equal(body.error.code, 'invalid_id');
  });
});
