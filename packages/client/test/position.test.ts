/**
 * A client that drops before its first event resumes from the position the hub
 * named in `connected`: every event published meanwhile arrives once, and no
 * subscription is told to reload (no `no_position` reset). Real hub, real drops.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ResetNotice } from '../src/index.js';
import { CuttableProxy, startHub, subscribeAndWait, testClient, waitUntil, type RunningHub } from './helpers/setup.js';

describe('client resume before the first event (real hub)', () => {
  let running: RunningHub;
  let proxy: CuttableProxy;

  before(async () => {
    running = await startHub();
    proxy = await CuttableProxy.start(running.port);
  });
  after(async () => {
    await proxy.close();
    await running.close();
  });

  for (const transport of ['websocket', 'sse'] as const) {
    it(`${transport}: a drop after connected and before any event loses nothing and resets nothing`, async (t) => {
      const topic = `first/${transport}`;
      const client = testClient({ url: proxy.url, transport });
      t.after(() => client.close());
      const received: string[] = [];
      const resets: ResetNotice[] = [];
      let confirmations = 0;
      await subscribeAndWait(client, topic, {
        onEvent: (event) => received.push(event.id),
        onReset: (reset) => resets.push(reset),
        onSubscribed: () => confirmations++,
      });
      assert.equal(typeof client.lastEventId, 'string', 'a position before any event');
      proxy.down();
      await waitUntil(() => client.state === 'reconnecting', 'the client to notice the drop');
      const ids = (await running.hub.publish([1, 2, 3].map((n) => ({ topic, type: 'tick', data: { n } })))).map((r) => r.id);
      proxy.up();
      await waitUntil(() => received.length >= ids.length, `the ${ids.length} events published during the drop`);
      await waitUntil(() => confirmations >= 2, 'the resubscription');
      assert.deepEqual(received, ids, 'every event once, in order');
      assert.deepEqual(resets, [], 'nothing to reload');
    });
  }
});
