import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openSse, WsSubscriber } from './helpers/clients.js';
import { publish, startHub, waitUntil, type RunningHub } from './helpers/hub.js';

const TOPICS = ['sports', 'sports/scores', 'sports/scores/live', 'sports/schedule', 'news/scores', 'sportsfan'];

// For each pattern, the topics of TOPICS it must receive.
const CASES: Array<[string, string[]]> = [
  ['sports', ['sports']],
  ['sports/*', ['sports/scores', 'sports/schedule']],
  ['sports/**', ['sports', 'sports/scores', 'sports/scores/live', 'sports/schedule']],
  ['*/scores', ['sports/scores', 'news/scores']],
  ['*/scores/**', ['sports/scores', 'sports/scores/live', 'news/scores']],
  ['*', ['sports', 'sportsfan']],
  ['**', TOPICS],
];

describe('wildcard subscriptions', () => {
  let running: RunningHub;
  before(async () => {
    running = await startHub();
  });
  after(() => running.close());

  for (const [pattern, expected] of CASES) {
    it(`${pattern} receives exactly ${expected.join(', ')}`, async () => {
      const sse = await openSse(running.url, [pattern]);
      const ws = await WsSubscriber.open(running.url);
      await ws.request({ type: 'subscribe', topics: [pattern] });
      await publish(
        running.url,
        TOPICS.map((topic) => ({ topic, data: topic })),
      );
      await sse.inbox.waitForEvents(expected.length);
      await ws.inbox.waitForEvents(expected.length);
      // A ping answered after the batch proves nothing else is on its way over WS;
      // a marker on a topic only `**` matches would not help, so compare after a round trip.
      await ws.request({ type: 'ping' });
      assert.deepEqual(
        sse.inbox.events.map((e) => e['topic']),
        expected,
      );
      assert.deepEqual(
        ws.inbox.events.map((e) => e['topic']),
        expected,
      );
      sse.close();
      ws.close();
    });
  }

  it('delivers an event once to a connection whose patterns overlap', async () => {
    const sse = await openSse(running.url, ['league/**', 'league/*', 'league/table']);
    const { body } = await publish(running.url, [
      { topic: 'league/table', data: 1 },
      { topic: 'league/x/y', data: 2 },
    ]);
    await sse.inbox.waitForEvents(2);
    const marker = await publish(running.url, { topic: 'league', data: 'marker' });
    await waitUntil(() => sse.inbox.events.some((e) => e['id'] === marker.body.ids[0]), 'the marker');
    assert.deepEqual(
      sse.inbox.events.map((e) => e['id']),
      [...body.ids, marker.body.ids[0]],
    );
    sse.close();
  });
});
