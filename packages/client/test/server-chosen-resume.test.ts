/**
 * A token whose `herald.topics` makes the hub subscribe its connections at connect:
 * on a WebSocket reconnect the hub holds those topics before the SDK's own
 * `subscribe … since` arrives, so the SDK's position must reach the hub in the URL
 * (`?since=`), or what was published while the client was away is silently lost.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { claimsOf, SECRET, sign } from '../../server/test/helpers/auth.js';
import type { HeraldEvent } from '../src/index.js';
import { CuttableProxy, sleep, startHub, subscribeAndWait, testClient, waitUntil, type RunningHub } from './helpers/setup.js';

describe('server-chosen topics resume across a WebSocket reconnect (real hub)', () => {
  let running: RunningHub;
  let proxy: CuttableProxy;

  before(async () => {
    running = await startHub({ jwtSecret: SECRET });
    proxy = await CuttableProxy.start(running.port);
  });
  after(async () => {
    await proxy.close();
    await running.close();
  });

  it('every event published during an outage arrives once, in order, with no reset', async (t) => {
    const token = await sign(claimsOf('7', { topics: ['user_{sub}'] }));
    const client = testClient({ url: proxy.url, transport: 'websocket', getToken: () => token });
    t.after(() => client.close());
    const received: number[] = [];
    await subscribeAndWait(client, 'user_7', {
      onEvent: (event: HeraldEvent<{ n: number }>) => received.push(event.data.n),
      onReset: () => assert.fail('no reset expected: the log holds every missed event'),
    });
    await running.hub.publish([{ topic: 'user_7', data: { n: 1 } }]);
    await waitUntil(() => received.length === 1, 'the first event');

    proxy.down();
    await waitUntil(() => client.state === 'reconnecting', 'the client noticed the outage');
    await running.hub.publish([2, 3, 4].map((n) => ({ topic: 'user_7', data: { n } })));
    proxy.up();
    await waitUntil(() => client.state === 'connected', 'the client reconnected', 10_000);
    await running.hub.publish([{ topic: 'user_7', data: { n: 5 } }]);
    await waitUntil(() => received.length >= 5, `all five events (have ${received.join(', ')})`, 10_000);
    await sleep(50);
    assert.deepEqual(received, [1, 2, 3, 4, 5]);
  });
});
