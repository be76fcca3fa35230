import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { RedisBroker } from '../src/broker/redis.js';
import { openSse, WsSubscriber, type Message } from './helpers/clients.js';
import { publish, startHub, waitUntil, type RunningHub } from './helpers/hub.js';
import { PrivateRedis, privateRedisSkipReason } from './helpers/private-redis.js';
import { testPrefix } from './helpers/redis.js';

// Subscribers still open when a test fails would keep reconnecting (and the file running): close them all.
const opened: Array<{ close(): void }> = [];
const keep = <T extends { close(): void }>(subscriber: T): T => {
  opened.push(subscriber);
  return subscriber;
};
afterEach(() => {
  for (const subscriber of opened.splice(0)) subscriber.close();
});

const skip = privateRedisSkipReason();

/** The types of the control messages (not events) a subscriber received, in order. */
const controls = (messages: Message[]): string[] => messages.filter((m) => typeof m['id'] !== 'string').map((m) => String(m['type']));

// Stalls are made with CLIENT PAUSE on a private Redis (never the shared one),
// which holds every command of every client, as a stalled Redis would.
describe('Redis stalls', { skip }, () => {
  let redis: PrivateRedis;
  let hub: RunningHub;
  let prefix: string;
  const stall = async (ms: number): Promise<void> => {
    await redis.admin.call('CLIENT', 'PAUSE', String(ms), 'ALL');
  };
  const logLength = (): Promise<number> => redis.admin.xlen(`${prefix}log`);

  before(async () => {
    redis = await PrivateRedis.start(6394);
    prefix = testPrefix();
    hub = await startHub({
      broker: new RedisBroker({ url: redis.url, prefix, blockMs: 500, commandTimeoutMs: 1000, probeIntervalMs: 100, probeTimeoutMs: 300 }),
    });
  });
  after(async () => {
    await hub.close();
    await redis.stop();
  });

  it('answers 503 for a publish Redis could not run in time, and never publishes it later', async () => {
    const sse = keep(await openSse(hub.url, ['stall']));
    const before = await logLength();
    await stall(1500);
    const refused = await publish(hub.url, { topic: 'stall', data: 'answered-503' });
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error.code, 'broker_unavailable');
    await waitUntil(async () => (await fetch(`${hub.url}/readyz`)).status === 200, 'the stall to end');
    const accepted = await publish(hub.url, { topic: 'stall', data: 'after' });
    assert.equal(accepted.status, 201, 'a publish right after the stall works');
    await sse.inbox.waitForEvents(1);
    assert.deepEqual(
      sse.inbox.events.map((e) => e['data']),
      ['after'],
      'the refused event never reaches subscribers',
    );
    assert.equal(await logLength(), before + 1, 'the refused event is not in the log');
    sse.close();
  });

  it('answers 504 outcome_unknown when Redis stays stalled past the time to settle, and still never publishes it later', async () => {
    const before = await logLength();
    await stall(2600);
    const unknown = await publish(hub.url, { topic: 'stall', data: 'answered-504' });
    assert.equal(unknown.status, 504);
    assert.equal(unknown.body.error.code, 'outcome_unknown');
    await waitUntil(async () => (await fetch(`${hub.url}/readyz`)).status === 200, 'the stall to end');
    assert.equal((await publish(hub.url, { topic: 'stall', data: 'after' })).status, 201);
    assert.equal(await logLength(), before + 1, 'the append ran after its deadline and refused itself');
  });

  it('tells subscribers of both transports paused, then resumed; connections opened meanwhile get paused right after connected', async () => {
    const sse = keep(await openSse(hub.url, ['outage']));
    const ws = keep(await WsSubscriber.open(hub.url, '?topic=outage'));
    await stall(1500);
    await waitUntil(() => hub.hub.deliveryPaused, 'the hub to notice the stall');
    const lateSse = keep(await openSse(hub.url, ['outage']));
    const lateWs = keep(await WsSubscriber.open(hub.url, '?topic=outage'));
    assert.equal((await fetch(`${hub.url}/readyz`)).status, 503, '/readyz is 503 while the log is away');
    for (const subscriber of [sse, ws, lateSse, lateWs]) await subscriber.inbox.waitForControl('resumed', 5000);
    const { body } = await publish(hub.url, { topic: 'outage', data: 'live again' });
    for (const subscriber of [sse, ws, lateSse, lateWs]) await subscriber.inbox.waitForEvents(1);
    for (const subscriber of [sse, ws]) assert.deepEqual(controls(subscriber.inbox.messages), ['connected', 'paused', 'resumed']);
    for (const subscriber of [lateSse, lateWs]) assert.deepEqual(controls(subscriber.inbox.messages), ['connected', 'paused', 'resumed']);
    for (const subscriber of [sse, ws, lateSse, lateWs])
      assert.deepEqual(
        subscriber.inbox.events.map((e) => e['id']),
        body.ids,
      );
    for (const subscriber of [sse, ws, lateSse, lateWs]) subscriber.close();
  });

  it('leaves a WebSocket exactly as it was when a subscribe with since is refused, so the retry replays', async () => {
    const [since] = (await publish(hub.url, { topic: 'retry', data: 0 })).body.ids as string[];
    const missed = (await publish(hub.url, { topic: 'retry', data: 1 })).body.ids as string[];
    const ws = keep(await WsSubscriber.open(hub.url, '?topic=other'));
    await stall(1500);
    const refused = await ws.request({ type: 'subscribe', topics: ['retry'], since });
    assert.deepEqual([refused['type'], refused['code']], ['error', 'broker_unavailable']);
    await waitUntil(async () => (await fetch(`${hub.url}/readyz`)).status === 200, 'the stall to end');
    const reply = await ws.request({ type: 'subscribe', topics: ['retry'], since });
    assert.equal(reply['type'], 'subscribed');
    await ws.inbox.waitForEvents(1);
    assert.deepEqual(
      ws.inbox.events.map((e) => e['id']),
      missed,
      'the retry replays what followed since',
    );
    assert.equal(ws.inbox.control('reset').length, 0);
    ws.close();
  });

  it('ends a WebSocket whose URL since cannot be read during a stall with broker_unavailable and close 1013', async () => {
    const [since] = (await publish(hub.url, { topic: 'url', data: 0 })).body.ids as string[];
    await stall(1500);
    const socket = new WsSubscriberProbe(`${hub.url.replace(/^http/, 'ws')}/ws?topic=url&since=${since}`);
    const code = await socket.closed();
    assert.equal(code, 1013);
    assert.equal(socket.messages.find((m) => m['type'] === 'error')?.['code'], 'broker_unavailable');
    await waitUntil(async () => (await fetch(`${hub.url}/readyz`)).status === 200, 'the stall to end');
  });
});

/** A raw WebSocket that records every message and its close code (it may close before `connected`). */
class WsSubscriberProbe {
  readonly messages: Message[] = [];
  #code: number | undefined;
  constructor(url: string) {
    const socket = new WebSocket(url);
    socket.on('message', (data) => this.messages.push(JSON.parse(String(data)) as Message));
    socket.on('close', (code) => (this.#code = code));
  }
  async closed(): Promise<number> {
    await waitUntil(() => this.#code !== undefined, 'the WebSocket to close', 8000);
    return this.#code!;
  }
}
