import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openSse, WsSubscriber } from './helpers/clients.js';
import { publish, startHub, waitUntil, type RunningHub } from './helpers/hub.js';
import { RawWsClient } from './helpers/raw-ws.js';

describe('round trip', () => {
  let running: RunningHub;
  before(async () => {
    running = await startHub();
  });
  after(() => running.close());

  it('delivers a POST /publish event to SSE and WebSocket subscribers with the documented envelope', async () => {
    const sse = await openSse(running.url, ['board/1']);
    const ws = await WsSubscriber.open(running.url, '?topic=board/1');
    const { status, body } = await publish(running.url, { topic: 'board/1', type: 'create', data: { text: 'hi' } });
    assert.equal(status, 201);
    assert.equal(body.ids.length, 1);
    const [fromSse] = await sse.inbox.waitForEvents(1);
    const [fromWs] = await ws.inbox.waitForEvents(1);
    for (const event of [fromSse!, fromWs!]) {
      assert.deepEqual(Object.keys(event), ['id', 'topic', 'type', 'data', 'timestamp']);
      assert.equal(event['id'], body.ids[0]);
      assert.equal(event['topic'], 'board/1');
      assert.equal(event['type'], 'create');
      assert.deepEqual(event['data'], { text: 'hi' });
      assert.match(event['timestamp'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    sse.close();
    ws.close();
  });

  it('defaults the type to message and keeps any JSON data, including null', async () => {
    const sse = await openSse(running.url, ['misc']);
    await publish(running.url, [
      { topic: 'misc', data: null },
      { topic: 'misc', data: [1, 'two', { three: 3 }] },
      { topic: 'misc', data: 'unicode ✓ \u2028 line\nbreak' },
    ]);
    const events = await sse.inbox.waitForEvents(3);
    assert.deepEqual(
      events.map((e) => [e['type'], e['data']]),
      [
        ['message', null],
        ['message', [1, 'two', { three: 3 }]],
        ['message', 'unicode ✓ \u2028 line\nbreak'],
      ],
    );
    sse.close();
  });

  it('starts every connection with connected, carrying the heartbeat interval', async () => {
    const sse = await openSse(running.url, ['x']);
    const ws = await WsSubscriber.open(running.url);
    for (const inbox of [sse.inbox, ws.inbox]) {
      const first = inbox.messages[0]!;
      assert.equal(first['type'], 'connected');
      assert.equal(first['heartbeat'], 25000);
      assert.equal(first['resumed'], false);
      assert.equal(typeof first['connectionId'], 'string');
    }
    sse.close();
    ws.close();
  });

  it('answers WebSocket subscribe, publish, ping and unsubscribe with replies carrying their ref', async () => {
    const ws = await WsSubscriber.open(running.url);
    const subscribed = await ws.request({ type: 'subscribe', topics: ['chat/room1'] });
    assert.deepEqual({ type: subscribed['type'], topics: subscribed['topics'] }, { type: 'subscribed', topics: ['chat/room1'] });
    const published = await ws.request({ type: 'publish', topic: 'chat/room1', event: 'said', data: { text: 'yo' } });
    assert.equal(published['type'], 'published');
    assert.equal(published['duplicate'], false);
    const [event] = await ws.inbox.waitForEvents(1);
    assert.equal(event!['id'], published['id']);
    assert.equal(event!['type'], 'said');
    const pong = await ws.request({ type: 'ping' });
    assert.equal(pong['type'], 'pong');
    const unsubscribed = await ws.request({ type: 'unsubscribe', topics: ['chat/room1'] });
    assert.equal(unsubscribed['type'], 'unsubscribed');
    await publish(running.url, { topic: 'chat/room1', data: 'after' });
    const marker = await ws.request({ type: 'ping' });
    assert.equal(marker['type'], 'pong');
    assert.equal(ws.inbox.events.length, 1, 'no event after unsubscribe');
    ws.close();
  });

  it('answers a window of WebSocket publishes sent in one TCP write with one reply each, in order', async () => {
    const client = await RawWsClient.open(running.port, '/ws?topic=window');
    await waitUntil(() => client.messages.some((m) => m['type'] === 'connected'), 'connected');
    const count = 30;
    client.sendTexts(Array.from({ length: count }, (_, i) => JSON.stringify({ type: 'publish', topic: 'window', data: i, ref: i + 1 })));
    await waitUntil(() => client.messages.filter((m) => m['type'] === 'published').length === count, `${count} published replies`);
    const replies = client.messages.filter((m) => m['type'] === 'published');
    assert.deepEqual(
      replies.map((m) => m['ref']),
      Array.from({ length: count }, (_, i) => i + 1),
    );
    await waitUntil(() => client.messages.filter((m) => m['topic'] === 'window').length === count, `${count} events`);
    const events = client.messages.filter((m) => m['topic'] === 'window');
    assert.deepEqual(
      events.map((m) => m['data']),
      Array.from({ length: count }, (_, i) => i),
    );
    assert.deepEqual(
      events.map((m) => m['id']),
      replies.map((m) => m['id']),
      'each reply names its event',
    );
    client.socket.destroy();
  });

  it('sends SSE with the documented headers', async () => {
    const response = await fetch(`${running.url}/events?topic=h`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    assert.equal(response.headers.get('cache-control'), 'no-cache');
    assert.equal(response.headers.get('x-accel-buffering'), 'no');
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    const text = Buffer.from(value!).toString();
    assert.match(text, /^retry: 3000\nid: [0-9a-f]{10}-\d+\ndata: \{"type":"connected",/);
    await reader.cancel();
  });
});
