import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import type { ConnectionState, HeraldError } from '../src/index.js';
import { startHub, subscribeAndWait, testClient, waitUntil, type RunningHub } from './helpers/setup.js';

const SECRET = 'a-test-secret-for-refusals-at-least-32-characters';

/** A token for `sub`, expiring `seconds` from now (negative: already expired), signed with `secret`. */
function mint(sub: string, seconds: number, secret = SECRET): Promise<string> {
  return new SignJWT({ herald: { subscribe: ['user/{sub}'] } })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime(Math.floor(Date.now() / 1000) + seconds)
    .sign(new TextEncoder().encode(secret));
}

// Issue 12: a WebSocket refused for its token is upgraded and closed with 4401 (or
// 4001 for an expired token), so the SDK reads the catalog's action for the code.
describe('the SDK after a WebSocket refused for its token (real hub)', () => {
  let running: RunningHub;
  before(async () => {
    running = await startHub({ jwtSecret: SECRET, jwtClockSkew: 0 });
  });
  after(() => running.close());

  for (const [what, bad] of [
    ['a token that does not verify (close 4401)', () => mint('alice', 60, 'another-secret-that-is-also-32-characters-long')],
    ['an expired token (close 4001)', () => mint('alice', -60)],
  ] as const) {
    it(`fetches a fresh token after ${what} and connects with it, staying on WebSocket`, async (t) => {
      let calls = 0;
      const client = testClient({ url: running.url, transport: 'auto', getToken: () => (++calls === 1 ? bad() : mint('alice', 60)) });
      t.after(() => client.close());
      const states: ConnectionState[] = [];
      client.on('state', (state) => states.push(state));
      const received: string[] = [];
      await subscribeAndWait(client, 'user/alice', { onEvent: (event) => received.push(event.id) });
      assert.equal(calls, 2, 'one fresh token');
      assert.deepEqual(states, ['connecting', 'reconnecting', 'connected']);
      const [published] = await running.hub.publish({ topic: 'user/alice', data: 1 });
      await waitUntil(() => received.includes(published!.id), 'the event');
      // Only WebSocket connections were made: the goodbye proved WebSocket works.
      assert.equal(client.transport, 'websocket');
    });
  }

  it('gives up with unauthorized when there is no getToken to fetch another', async (t) => {
    const client = testClient({ url: running.url, transport: 'websocket', token: await mint('alice', 60, 'another-secret-that-is-also-32-characters-long') });
    t.after(() => client.close());
    const errors: HeraldError[] = [];
    client.on('error', (error) => errors.push(error));
    client.subscribe('user/alice', { onEvent: () => undefined });
    await waitUntil(() => client.state === 'failed', 'the client to fail');
    assert.equal(errors[0]?.code, 'unauthorized');
  });
});
