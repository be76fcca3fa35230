// Subscription filters apply to every event, live and replayed, on both transports
// (the change-capture case is in postgres/capture.test.ts).
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import WebSocket from 'ws';
import { closeSubscribers, ids, sseOpen, waitForId, WsSubscriber, type SseSubscriber } from './helpers/clients.js';
import { publish, startHub } from './helpers/hub.js';

/** Opens a WebSocket the hub is expected to refuse; resolves with the HTTP answer. */
function refusedUpgrade(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace(/^http/, 'ws'));
    socket.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    socket.on('open', () => {
      socket.close();
      reject(new Error('the upgrade was accepted'));
    });
    socket.on('error', () => undefined);
  });
}

describe('subscription filters', () => {
  afterEach(closeSubscribers);

  const FILTER = "session_id = 'abc' and resolved = false";
  const MIX = [
    { session_id: 'abc', resolved: false, n: 1 },
    { session_id: 'abc', resolved: true, n: 2 },
    { session_id: 'xyz', resolved: false, n: 3 },
    { session_id: 'abc', n: 4 },
    { session_id: 'abc', resolved: 'false', n: 5 },
    { session_id: 'abc', resolved: false, n: 6, extra: { deep: 1 } },
    'not an object',
    null,
    { session_id: 'ABC', resolved: false, n: 9 },
    { session_id: 'abc', resolved: false, n: 10 },
  ];
  const MATCHING = [1, 6, 10];

  /** Publishes MIX to `topic` (one event each) and returns the ids. */
  async function publishMix(url: string, topic: string): Promise<string[]> {
    const { status, body } = await publish(
      url,
      MIX.map((data) => ({ topic, type: 'alert', data })),
    );
    assert.equal(status, 201);
    return body.ids as string[];
  }

  const matchingIds = (published: readonly string[]): string[] =>
    MATCHING.map((n) => published[MIX.findIndex((d) => typeof d === 'object' && d !== null && d.n === n)]!);

  it('SSE: live and replayed events are filtered the same way', { timeout: 60_000 }, async () => {
    const running = await startHub();
    const subscribers: SseSubscriber[] = [];
    try {
      const [start] = (await publish(running.url, { topic: 'alerts', data: { session_id: 'abc', resolved: false, n: 0 } })).body.ids as string[];
      const live = await sseOpen(running.url, ['alerts'], { query: { filter: FILTER } });
      subscribers.push(live);
      const published = await publishMix(running.url, 'alerts');
      const expected = matchingIds(published);
      await waitForId(live.inbox, expected.at(-1)!);
      const replay = await sseOpen(running.url, ['alerts'], { lastEventId: start!, query: { filter: FILTER } });
      subscribers.push(replay);
      await waitForId(replay.inbox, expected.at(-1)!);
      // A later event that does not match, then one that does: live filtering after the replay too.
      const [, after] = (
        await publish(running.url, [
          { topic: 'alerts', data: { session_id: 'abc', resolved: true } },
          { topic: 'alerts', data: { session_id: 'abc', resolved: false } },
        ])
      ).body.ids as string[];
      await waitForId(live.inbox, after!);
      await waitForId(replay.inbox, after!);
      assert.deepEqual(ids(live.inbox.events), [...expected, after]);
      assert.deepEqual(ids(replay.inbox.events), [...expected, after]);
      assert.deepEqual(
        replay.inbox.events.map((e) => e['data']),
        live.inbox.events.map((e) => e['data']),
      );
    } finally {
      for (const sub of subscribers) sub.close();
      await running.close();
    }
  });

  it('WebSocket: filter on subscribe and ?filter= at connect, live and replayed', { timeout: 60_000 }, async () => {
    const running = await startHub();
    const sockets: WsSubscriber[] = [];
    try {
      const [start] = (await publish(running.url, { topic: 'alerts', data: null })).body.ids as string[];
      const atConnect = await WsSubscriber.open(running.url, `?topic=alerts&filter=${encodeURIComponent(FILTER)}`);
      const onSubscribe = await WsSubscriber.open(running.url);
      sockets.push(atConnect, onSubscribe);
      const reply = await onSubscribe.request({ type: 'subscribe', topics: ['alerts'], filter: FILTER });
      assert.equal(reply['type'], 'subscribed');
      const published = await publishMix(running.url, 'alerts');
      const expected = matchingIds(published);
      const resumedAtConnect = await WsSubscriber.open(running.url, `?topic=alerts&since=${start}&filter=${encodeURIComponent(FILTER)}`);
      const resumedOnSubscribe = await WsSubscriber.open(running.url);
      sockets.push(resumedAtConnect, resumedOnSubscribe);
      assert.equal((await resumedOnSubscribe.request({ type: 'subscribe', topics: ['alerts'], since: start, filter: FILTER }))['type'], 'subscribed');
      for (const socket of sockets) await waitForId(socket.inbox, expected.at(-1)!);
      const [last] = (await publish(running.url, { topic: 'alerts', data: { session_id: 'abc', resolved: false } })).body.ids as string[];
      for (const socket of sockets) await waitForId(socket.inbox, last!);
      for (const socket of sockets) assert.deepEqual(ids(socket.inbox.events), [...expected, last]);
    } finally {
      for (const socket of sockets) socket.close();
      await running.close();
    }
  });

  it('a filter applies to the patterns subscribed with it only', { timeout: 60_000 }, async () => {
    const running = await startHub();
    const ws = await WsSubscriber.open(running.url);
    try {
      assert.equal((await ws.request({ type: 'subscribe', topics: ['alerts'], filter: "level = 'high'" }))['type'], 'subscribed');
      assert.equal((await ws.request({ type: 'subscribe', topics: ['audit'], filter: null }))['type'], 'subscribed');
      const { body } = await publish(running.url, [
        { topic: 'alerts', data: { level: 'low' } },
        { topic: 'alerts', data: { level: 'high' } },
        { topic: 'audit', data: { level: 'low' } },
      ]);
      const [, high, audit] = body.ids as string[];
      await waitForId(ws.inbox, audit!);
      assert.deepEqual(ids(ws.inbox.events), [high, audit]);
    } finally {
      ws.close();
      await running.close();
    }
  });

  it('bad filter syntax: SSE 400 invalid_filter; WebSocket error invalid_filter with the ref, or 400 at connect', { timeout: 60_000 }, async () => {
    const running = await startHub();
    const ws = await WsSubscriber.open(running.url);
    try {
      for (const bad of ['a = b', "session_id = 'abc", 'a = 1 or', `a = '${'x'.repeat(1100)}'`]) {
        const response = await fetch(`${running.url}/events?topic=alerts&filter=${encodeURIComponent(bad)}`);
        assert.equal(response.status, 400, bad);
        assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'invalid_filter', bad);
      }
      const bad = await ws.request({ type: 'subscribe', topics: ['alerts'], filter: 'a in 1' });
      assert.deepEqual([bad['type'], bad['code']], ['error', 'invalid_filter']);
      assert.equal(typeof bad['ref'], 'number', 'the error carries the request ref');
      const notText = await ws.request({ type: 'subscribe', topics: ['alerts'], filter: 7 });
      assert.deepEqual([notText['type'], notText['code']], ['error', 'invalid_filter']);
      // The refused subscriptions added nothing, and the connection goes on.
      assert.equal((await ws.request({ type: 'subscribe', topics: ['other'] }))['type'], 'subscribed');
      const { body } = await publish(running.url, [
        { topic: 'alerts', data: { a: 1 } },
        { topic: 'other', data: { a: 1 } },
      ]);
      await waitForId(ws.inbox, body.ids[1]);
      assert.deepEqual(ids(ws.inbox.events), [body.ids[1]]);
      assert.equal(ws.closeCode, undefined);

      const refused = await refusedUpgrade(`${running.url}/ws?topic=alerts&filter=${encodeURIComponent('1 = a')}`);
      assert.equal(refused.status, 400);
      assert.equal((JSON.parse(refused.body) as { error: { code: string } }).error.code, 'invalid_filter');
      const noTopic = await refusedUpgrade(`${running.url}/ws?filter=${encodeURIComponent('a = 1')}`);
      assert.equal(noTopic.status, 400, 'a filter without a topic');
      assert.equal((JSON.parse(noTopic.body) as { error: { code: string } }).error.code, 'invalid_request');
    } finally {
      ws.close();
      await running.close();
    }
  });
});
