import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Inbox, openSse, WsSubscriber } from './helpers/clients.js';
import { publish, publishMany, sleep, startHub, waitUntil, type RunningHub } from './helpers/hub.js';
import { CuttableProxy } from './helpers/proxy.js';
import { seededRandom, testSeed } from './helpers/random.js';
import { ResumingWsClient } from './helpers/resuming-ws.js';

/** Publishes `total` events in random small batches with random pauses; returns ids in log order. */
async function publishSteadily(url: string, topic: string, total: number, random: () => number): Promise<string[]> {
  const ids: string[] = [];
  while (ids.length < total) {
    const size = Math.min(total - ids.length, 1 + Math.floor(random() * 5));
    const batch = Array.from({ length: size }, (_, i) => ({ topic, type: 'tick', data: { n: ids.length + i } }));
    const { status, body } = await publish(url, batch);
    assert.equal(status, 201);
    ids.push(...(body.ids as string[]));
    await sleep(Math.floor(random() * 4));
  }
  return ids;
}

/** Cuts every proxied connection at random moments until `done()` is true; returns the number of cuts that hit a connection. */
async function cutRandomly(proxy: CuttableProxy, random: () => number, done: () => boolean): Promise<number> {
  let cuts = 0;
  while (!done()) {
    await sleep(10 + Math.floor(random() * 60));
    if (proxy.cutAll() > 0) cuts++;
  }
  return cuts;
}

describe('resume', () => {
  let running: RunningHub;
  before(async () => {
    running = await startHub({ sseRetry: 20 });
  });
  after(() => running.close());

  it('EventSource cut at random points gets every event exactly once, in order', async () => {
    const seed = testSeed();
    const random = seededRandom(seed);
    const proxy = await CuttableProxy.start(running.port);
    // As an app would: load state (here, one event) and subscribe from its id, so
    // even a cut before the first live event has a resume point.
    const [start] = await publishMany(running.url, 'feed/sse', 1);
    const sse = await openSse(proxy.url, ['feed/sse'], { lastEventId: start! });
    let publishing = true;
    const cutting = cutRandomly(proxy, random, () => !publishing);
    const ids = await publishSteadily(running.url, 'feed/sse', 400, random);
    publishing = false;
    const cuts = await cutting;
    await sse.inbox.waitForEvents(ids.length, 15000).catch((error: Error) => {
      const got = sse.inbox.events.map((e) => e['id']);
      const missing = ids.filter((id) => !got.includes(id));
      throw new Error(
        `seed ${seed}: ${error.message}; readyState ${sse.source.readyState}, ` +
          `connects ${sse.inbox.control('connected').length}, resets ${sse.inbox.control('reset').length}, ` +
          `errors ${JSON.stringify(sse.inbox.control('error'))}, missing ${missing.length} (first ${missing[0]}, last received ${got[got.length - 1]})`,
      );
    });
    await sleep(50);
    assert.deepEqual(
      sse.inbox.events.map((e) => e['id']),
      ids,
      `seed ${seed}: every event once, in order`,
    );
    assert.ok(cuts >= 3, `seed ${seed}: the proxy cut live connections (${cuts})`);
    const connected = sse.inbox.control('connected');
    assert.ok(connected.length >= 2, `seed ${seed}: the client reconnected`);
    assert.ok(
      connected.slice(1).some((m) => m['resumed'] === true),
      `seed ${seed}: reconnects resumed`,
    );
    assert.equal(sse.inbox.control('reset').length, 0);
    sse.close();
    await proxy.close();
  });

  it('WebSocket cut at random points gets every event exactly once, in order', async () => {
    const seed = testSeed();
    const random = seededRandom(seed);
    const proxy = await CuttableProxy.start(running.port);
    const client = new ResumingWsClient(() => [proxy.url], 'feed/ws');
    [client.lastId] = await publishMany(running.url, 'feed/ws', 1);
    client.start();
    await client.inbox.waitForControl('connected');
    let publishing = true;
    const cutting = cutRandomly(proxy, random, () => !publishing);
    const ids = await publishSteadily(running.url, 'feed/ws', 400, random);
    publishing = false;
    const cuts = await cutting;
    await client.inbox.waitForEvents(ids.length, 15000);
    await sleep(50);
    client.stop();
    assert.deepEqual(
      client.inbox.events.map((e) => e['id']),
      ids,
      `seed ${seed}: every event once, in order`,
    );
    assert.ok(cuts >= 3, `seed ${seed}: the proxy cut live connections (${cuts})`);
    assert.ok(client.connects >= 3, `seed ${seed}: the client reconnected`);
    assert.equal(client.inbox.control('reset').length, 0);
    await proxy.close();
  });

  it('resumes from every position of a history, over both transports', async () => {
    const ids = await publishMany(running.url, 'every/pos', 25);
    for (let k = 0; k < ids.length; k++) {
      const expected = ids.slice(k + 1);
      const sse = await openSse(running.url, ['every/pos'], { lastEventId: ids[k]! });
      const ws = await WsSubscriber.open(running.url);
      await ws.request({ type: 'subscribe', topics: ['every/pos'], since: ids[k] });
      await sse.inbox.waitForEvents(expected.length);
      // Requests are answered in order, so the pong comes after the whole replay.
      await ws.request({ type: 'ping' });
      await sleep(20);
      assert.deepEqual(
        sse.inbox.events.map((e) => e['id']),
        expected,
        `SSE from position ${k}`,
      );
      assert.deepEqual(
        ws.inbox.events.map((e) => e['id']),
        expected,
        `WS from position ${k}`,
      );
      assert.equal(sse.inbox.control('connected')[0]!['resumed'], true);
      sse.close();
      ws.close();
    }
  });

  it('replays only matching topics, in log order, then continues live', async () => {
    const first = await publish(running.url, { topic: 'mix/a/1', data: 0 });
    const ids = (
      await publish(running.url, [
        { topic: 'mix/a/1', data: 1 },
        { topic: 'mix/b', data: 2 },
        { topic: 'mix/c', data: 3 },
        { topic: 'mix/a/2', data: 4 },
        { topic: 'mix/a/2/deep', data: 5 },
      ])
    ).body.ids as string[];
    const sse = await openSse(running.url, ['mix/a/*', 'mix/b'], { lastEventId: first.body.ids[0] });
    await sse.inbox.waitForEvents(3);
    const live = (
      await publish(running.url, [
        { topic: 'mix/c', data: 6 },
        { topic: 'mix/b', data: 7 },
      ])
    ).body.ids as string[];
    await sse.inbox.waitForEvents(4);
    await sleep(30);
    assert.deepEqual(
      sse.inbox.events.map((e) => e['id']),
      [ids[0], ids[1], ids[3], live[1]],
    );
    sse.close();
  });

  it('loses nothing when many clients resume while events are being published', async () => {
    const seed = testSeed();
    const random = seededRandom(seed);
    const history = await publishMany(running.url, 'busy', 40);
    const clients: Array<{ since: string; inbox: Inbox; close(): void }> = [];
    let publishing = true;
    const publishing$ = publishSteadily(running.url, 'busy', 300, random).finally(() => (publishing = false));
    while (publishing && clients.length < 30) {
      const since = history[Math.floor(random() * history.length)]!;
      if (clients.length % 2 === 0) {
        const sse = await openSse(running.url, ['busy'], { lastEventId: since });
        clients.push({ since, inbox: sse.inbox, close: () => sse.close() });
      } else {
        const ws = await WsSubscriber.open(running.url, `?topic=busy&since=${since}`);
        clients.push({ since, inbox: ws.inbox, close: () => ws.close() });
      }
      await sleep(Math.floor(random() * 8));
    }
    const live = await publishing$;
    const all = [...history, ...live];
    for (const client of clients) {
      const expected = all.slice(all.indexOf(client.since) + 1);
      await waitUntil(() => client.inbox.events.length >= expected.length, `client from ${client.since}`, 10000);
    }
    await sleep(50);
    for (const client of clients) {
      const expected = all.slice(all.indexOf(client.since) + 1);
      assert.deepEqual(
        client.inbox.events.map((e) => e['id']),
        expected,
        `seed ${seed}: client resuming after ${client.since}`,
      );
      client.close();
    }
    assert.ok(clients.length >= 5, 'several clients resumed during publishing');
  });
});
