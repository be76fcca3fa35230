import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import type { ConnectionState, HeraldError } from '../src/index.js';
import { publishBatches, seededRandom, sleep, startHub, subscribeAndWait, testClient, testSeed, waitUntil, type RunningHub } from './helpers/setup.js';

const SECRET = 'a-test-secret-that-is-at-least-32-characters-long';

/** A token for `sub` that expires `seconds` from now (JWT exp has whole-second precision). */
async function mint(sub: string, seconds: number, subscribe: string[] = ['user/{sub}', 'news/**']): Promise<string> {
  return new SignJWT({ herald: { subscribe, publish: [] } })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime(Math.floor(Date.now() / 1000) + seconds)
    .sign(new TextEncoder().encode(SECRET));
}

describe('tokens (real hub with jwtSecret)', () => {
  let running: RunningHub;
  const seed = testSeed();

  before(async () => {
    // No clock skew, so a token ends its connection right at exp and the test stays short.
    running = await startHub({ jwtSecret: SECRET, jwtClockSkew: 0, heartbeatInterval: 500 });
  });
  after(() => running.close());

  /** Publishes on `topic` for `ms`, in small batches, from inside the hub; returns the ids. */
  async function publishFor(topic: string, ms: number): Promise<string[]> {
    const random = seededRandom(seed);
    const ids: string[] = [];
    const end = Date.now() + ms;
    while (Date.now() < end) ids.push(...(await publishBatches(running.hub, topic, 3, random, () => sleep(20))));
    return ids;
  }

  it('sse: gets a fresh token when the hub ends the stream with token_expired, and resumes without losing events', async (t) => {
    let calls = 0;
    const client = testClient({ url: running.url, transport: 'sse', getToken: () => (calls++, mint('alice', 2)) });
    t.after(() => client.close());
    const states: ConnectionState[] = [];
    client.on('state', (s) => states.push(s));
    const received: string[] = [];
    await subscribeAndWait(client, 'news/sse', { onEvent: (e) => received.push(e.id) });
    const ids = await publishFor('news/sse', 3500);
    await waitUntil(() => received.length >= ids.length, `all ${ids.length} events (have ${received.length})`, 5000);
    assert.deepEqual(received, ids);
    assert.ok(calls >= 2, `getToken called again after expiry (${calls} calls)`);
    assert.ok(states.includes('reconnecting'), 'the hub ended the expired stream');
  });

  it('websocket: refreshes the token on the open connection before it expires, never reconnecting', async (t) => {
    let calls = 0;
    const client = testClient({ url: running.url, transport: 'websocket', getToken: () => (calls++, mint('alice', 2)) });
    t.after(() => client.close());
    const states: ConnectionState[] = [];
    client.on('state', (s) => states.push(s));
    const received: string[] = [];
    await subscribeAndWait(client, 'user/alice', { onEvent: (e) => received.push(e.id) });
    const ids = await publishFor('user/alice', 3500);
    await waitUntil(() => received.length >= ids.length, `all ${ids.length} events`, 5000);
    assert.deepEqual(received, ids);
    assert.ok(calls >= 2, `refreshed (${calls} getToken calls)`);
    assert.deepEqual(states, ['connecting', 'connected'], 'one connection throughout');
  });

  it('websocket: when the token could not be refreshed in time, reconnects with a fresh one after close 4001 and loses nothing', async (t) => {
    let calls = 0;
    let first: Promise<string> | undefined;
    // The refresh gets the very same token back, so the connection reaches its expiry.
    const client = testClient({
      url: running.url,
      transport: 'websocket',
      getToken: () => {
        calls++;
        if (calls <= 2) return (first ??= mint('alice', 2));
        return mint('alice', 60);
      },
    });
    t.after(() => client.close());
    const states: ConnectionState[] = [];
    client.on('state', (s) => states.push(s));
    const received: string[] = [];
    await subscribeAndWait(client, 'news/ws', { onEvent: (e) => received.push(e.id) });
    const ids = await publishFor('news/ws', 3500);
    await waitUntil(() => received.length >= ids.length, `all ${ids.length} events (have ${received.length})`, 5000);
    assert.deepEqual(received, ids);
    assert.ok(calls >= 3, `a fresh token after expiry (${calls} calls)`);
    assert.deepEqual(states.slice(0, 4), ['connecting', 'connected', 'reconnecting', 'connected']);
  });

  it('fails with token_expired when a fixed token has expired and cannot be replaced', async (t) => {
    const token = await mint('alice', -10);
    const client = testClient({ url: running.url, transport: 'sse', token });
    t.after(() => client.close());
    const errors: HeraldError[] = [];
    client.on('error', (e) => errors.push(e));
    client.subscribe('news/x', { onEvent: () => undefined });
    await waitUntil(() => client.state === 'failed', 'failed');
    assert.equal(errors[0]?.code, 'token_expired');
  });

  it('tells only the subscription whose topic the token does not cover, over WebSocket', async (t) => {
    const client = testClient({ url: running.url, transport: 'websocket', getToken: () => mint('alice', 60) });
    t.after(() => client.close());
    const refused: string[] = [];
    const received: string[] = [];
    let allowed = false;
    client.subscribe('user/bob', { onEvent: () => assert.fail('not allowed'), onError: (e) => refused.push(e.code) });
    client.subscribe('user/alice', { onEvent: (e) => received.push(e.id), onSubscribed: () => (allowed = true) });
    await waitUntil(() => allowed && refused.length === 1, 'one confirmed, one refused');
    assert.deepEqual(refused, ['forbidden']);
    const [result] = await running.hub.publish([{ topic: 'user/alice', data: 1 }]);
    await waitUntil(() => received.length === 1, 'the allowed event');
    assert.deepEqual(received, [result!.id]);
  });
});
