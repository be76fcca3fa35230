import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WsSubscriber } from '../helpers/clients.js';
import { startHub, type RunningHub } from '../helpers/hub.js';

// Issue 12 (grading portal): its client added a `timestamp` to every ping and the
// hub answered `unknown field "timestamp"`. Unknown fields are now ignored.
describe('WebSocket client messages with unknown fields (a real hub)', () => {
  let running: RunningHub;
  before(async () => {
    running = await startHub();
  });
  after(() => running.close());

  it('answers a ping that carries a timestamp with pong', async () => {
    const ws = await WsSubscriber.open(running.url);
    const reply = await ws.request({ type: 'ping', timestamp: 1 });
    assert.deepEqual(reply, { type: 'pong', ref: reply['ref'] });
    ws.close();
  });

  it('subscribes and publishes with extra fields, still validating the known ones', async () => {
    const ws = await WsSubscriber.open(running.url);
    const subscribed = await ws.request({ type: 'subscribe', topics: ['forward/a'], client: 'v2', priority: 1 });
    assert.equal(subscribed['type'], 'subscribed');
    const published = await ws.request({ type: 'publish', topic: 'forward/a', event: 'note', data: { n: 1 }, traceId: 'abc' });
    assert.equal(published['type'], 'published');
    const [event] = await ws.inbox.waitForEvents(1);
    assert.deepEqual(event!['data'], { n: 1 });
    const refused = await ws.request({ type: 'subscribe', topics: ['a//b'], extra: true });
    assert.equal(refused['code'], 'invalid_topic');
    ws.close();
  });
});
