import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConnectionState, HeraldEvent } from '../src/index.js';
import { CuttableProxy, publishBatches, seededRandom, sleep, startHub, testClient, testSeed, waitUntil, type RunningHub } from './helpers/setup.js';

const TOTAL = 400;

describe('client resume through random connection drops (real hub)', () => {
  let running: RunningHub;
  let proxy: CuttableProxy;
  const seed = testSeed();

  before(async () => {
    running = await startHub({ heartbeatInterval: 500 });
    proxy = await CuttableProxy.start(running.port);
  });
  after(async () => {
    await proxy.close();
    await running.close();
  });

  for (const transport of ['websocket', 'sse', 'auto'] as const) {
    it(`${transport}: sees every event exactly once and in order while the hub side drops it (seed ${seed})`, async (t) => {
      const random = seededRandom(seed + transport.length);
      const topic = `resume/${transport}`;
      const client = testClient({ url: proxy.url, transport });
      t.after(() => client.close());
      const received: string[] = [];
      const other: string[] = [];
      const states: ConnectionState[] = [];
      client.on('state', (s) => states.push(s));
      let subscribed = false;
      client.subscribe<{ n: number }>(topic, {
        onEvent: (event: HeraldEvent<{ n: number }>) => received.push(event.id),
        onSubscribed: () => {
          subscribed = true;
        },
        onReset: () => assert.fail('no reset expected: history covers every gap'),
      });
      // A second subscription on a wildcard that matches too: it must see the same events, once each.
      client.subscribe('resume/**', { onEvent: (event) => event.topic === topic && other.push(event.id) });
      await waitUntil(() => subscribed, 'the first subscription');
      // The client needs one event to have a position to resume from; a drop before
      // that is a reset (tested in the state-machine tests), not a silent gap.
      const ids = (await running.hub.publish([{ topic, type: 'tick', data: { n: -1 } }])).map((r) => r.id);
      await waitUntil(() => received.length === 1 && other.length === 1, 'the first event');

      let done = false;
      let cuts = 0;
      const cutter = (async () => {
        while (!done) {
          await sleep(15 + Math.floor(random() * 80));
          if (proxy.cutAll() > 0) cuts++;
        }
      })();
      ids.push(...(await publishBatches(running.hub, topic, TOTAL - 1, random, () => sleep(Math.floor(random() * 6)))));
      done = true;
      await cutter;
      await waitUntil(() => received.length >= TOTAL && other.length >= TOTAL, `all ${TOTAL} events (have ${received.length}, seed ${seed})`, 15_000);
      await sleep(50);
      assert.deepEqual(received, ids, `seed ${seed}`);
      assert.deepEqual(other, ids, `seed ${seed}`);
      assert.ok(cuts > 3, `the test cut connections (${cuts} cuts)`);
      assert.ok(states.filter((s) => s === 'reconnecting').length > 3, 'the client reconnected several times');
    });
  }
});
