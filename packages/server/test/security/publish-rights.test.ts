import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ErrorCode } from '../../src/index.js';
import { attempt, claimsOf, nowSeconds, OTHER_SECRET, postPublish, signWithText, topicQuery, TRANSPORTS } from '../helpers/auth.js';
import { openSse } from '../helpers/clients.js';
import { ALICE, alice, assertErrorReply, assertOpened, AUDIENCE, bearer, ISSUER, KEY_1, KEY_2, openWs, Q_ALICE, token, useHubs } from './fixture.js';

const hubs = useHubs();

describe('publishing', () => {
  const outbox = (data: unknown, topic = 'user/alice/outbox'): { topic: string; type: string; data: unknown } => ({ topic, type: 'note', data });

  const PUBLISH_ROWS: Array<{ name: string; headers: () => Promise<Record<string, string>>; body: unknown; status: number; code?: ErrorCode }> = [
    { name: 'anonymous', headers: async () => ({}), body: outbox(1), status: 401, code: 'unauthorized' },
    { name: 'the first publish key', headers: async () => bearer(KEY_1), body: outbox(1), status: 201 },
    { name: 'the second publish key (rotation)', headers: async () => bearer(KEY_2), body: outbox(1), status: 201 },
    { name: 'a publish key to any topic', headers: async () => bearer(KEY_1), body: outbox(1, 'anything/at/all'), status: 201 },
    { name: 'an unknown key', headers: async () => bearer('publish-key-three-0123456789abcd'), body: outbox(1), status: 401, code: 'unauthorized' },
    {
      name: 'a key that differs in its last character',
      headers: async () => bearer(`${KEY_1.slice(0, -1)}0`),
      body: outbox(1),
      status: 401,
      code: 'unauthorized',
    },
    { name: 'a token whose herald.publish covers the topic', headers: async () => bearer(await alice()), body: outbox(1), status: 201 },
    {
      name: 'a token whose herald.publish does not cover the topic',
      headers: async () => bearer(await alice()),
      body: outbox(1, 'user/bob/outbox'),
      status: 403,
      code: 'forbidden',
    },
    {
      name: 'a token with subscribe rights only',
      headers: async () => bearer(await token('alice', { subscribe: ['**'] })),
      body: outbox(1),
      status: 403,
      code: 'forbidden',
    },
    {
      name: 'an expired token with publish rights',
      headers: async () => bearer(await token('alice', ALICE, { exp: nowSeconds() - 60 })),
      body: outbox(1),
      status: 401,
      code: 'token_expired',
    },
    {
      name: 'a token with publish rights but a bad signature',
      headers: async () => bearer(await signWithText(claimsOf('alice', ALICE, { aud: AUDIENCE, iss: ISSUER }), OTHER_SECRET)),
      body: outbox(1),
      status: 401,
      code: 'unauthorized',
    },
  ];
  for (const row of PUBLISH_ROWS) {
    it(`POST /publish with ${row.name} -> ${row.status}${row.code === undefined ? '' : ` ${row.code}`}`, async () => {
      const answer = await postPublish(hubs.main.url, row.body, await row.headers());
      assert.equal(answer.status, row.status, answer.text);
      if (row.code === undefined) assert.equal(answer.json.ids.length, 1);
      else assert.equal(answer.json.error.code, row.code);
    });
  }

  describe('a hub with publish keys and no JWT key', () => {
    for (const transport of TRANSPORTS) {
      it(`${transport}: subscribing stays open to anyone, also with a stray token that is not a key`, async () => {
        assertOpened(await attempt(hubs.keys.url, transport, Q_ALICE), transport);
        assertOpened(await attempt(hubs.keys.url, transport, Q_ALICE, bearer(await alice())), transport);
      });
    }

    it('publishing needs one of the keys: anonymous and a token get 401, the key 201', async () => {
      const body = { topic: 'user/alice', data: 1 };
      const anonymous = await postPublish(hubs.keys.url, body);
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.json.error.code, 'unauthorized');
      const withToken = await postPublish(hubs.keys.url, body, bearer(await alice()));
      assert.equal(withToken.status, 401);
      assert.equal(withToken.json.error.code, 'unauthorized');
      assert.equal((await postPublish(hubs.keys.url, body, bearer(KEY_1))).status, 201);
    });
  });

  it('refuses a whole batch when one topic is not covered, publishing none of it', async () => {
    const running = hubs.main;
    const sse = await openSse(running.url, ['user/alice/outbox'], { query: { token: await alice() } });
    try {
      const refused = await postPublish(running.url, [outbox('first'), outbox('second', 'user/bob/outbox')], bearer(await alice()));
      assert.equal(refused.status, 403);
      assert.equal(refused.json.error.code, 'forbidden');
      const marker = await postPublish(running.url, outbox('marker'), bearer(await alice()));
      assert.equal(marker.status, 201);
      const [first] = await sse.inbox.waitForEvents(1);
      assert.equal(first!['data'], 'marker');
    } finally {
      sse.close();
    }
  });

  // Control characters and CR LF must never reach an SSE `id:` line or a topic.
  const BAD_FIELDS: Array<[string, Record<string, unknown>, ErrorCode]> = [
    ['a topic with CR LF', { topic: 'user/alice/outbox\r\nevent: x', data: 1 }, 'invalid_topic'],
    ['a topic with NUL', { topic: 'user/alice\u0000/outbox', data: 1 }, 'invalid_topic'],
    ['a topic with a .. segment', { topic: 'user/bob/../alice/outbox', data: 1 }, 'invalid_topic'],
    ['a topic with U+2028', { topic: 'user/alice/out\u2028box', data: 1 }, 'invalid_topic'],
    ['a type with CR LF', { topic: 'user/alice/outbox', type: 'note\r\ndata: x', data: 1 }, 'invalid_type'],
    ['a type with a tab', { topic: 'user/alice/outbox', type: 'no\tte', data: 1 }, 'invalid_type'],
    ['a type with DEL', { topic: 'user/alice/outbox', type: 'note\u007f', data: 1 }, 'invalid_type'],
    ['the reserved type refreshed', { topic: 'user/alice/outbox', type: 'refreshed', data: 1 }, 'reserved_type'],
    ['an id with CR LF', { topic: 'user/alice/outbox', data: 1, id: 'a\r\nid: forged' }, 'invalid_id'],
    ['an id with a lone LF', { topic: 'user/alice/outbox', data: 1, id: 'a\nb' }, 'invalid_id'],
    ['an id with NUL', { topic: 'user/alice/outbox', data: 1, id: 'a\u0000b' }, 'invalid_id'],
  ];
  for (const [what, body, code] of BAD_FIELDS) {
    it(`POST /publish with ${what} -> 400 ${code}`, async () => {
      const answer = await postPublish(hubs.main.url, body, bearer(KEY_1));
      assert.equal(answer.status, 400, answer.text);
      assert.equal(answer.json.error.code, code);
      assert.doesNotMatch(answer.text, /[\r\n\u0000]/, 'the error body is one clean line');
    });
    it(`ws publish with ${what} -> error ${code} with its ref`, async () => {
      const ws = await openWs(hubs.main.url, '', await alice());
      try {
        const { topic, type, ...rest } = body;
        const reply = await ws.request({ type: 'publish', topic, ...(type === undefined ? {} : { event: type }), ...rest });
        assertErrorReply(reply, code, reply['ref'] as number);
        assert.equal(ws.closeCode, undefined);
      } finally {
        ws.close();
      }
    });
  }

  it('over WebSocket, publishing needs the same rights: forbidden and unauthorized replies carry the ref and the connection stays open', async () => {
    const running = hubs.main;
    const ws = await openWs(running.url, topicQuery('user/alice/outbox'), await alice());
    const anonymous = await openWs(running.url, topicQuery('news/today'));
    try {
      const ok = await ws.request({ type: 'publish', topic: 'user/alice/outbox', event: 'note', data: 'mine' });
      assert.equal(ok['type'], 'published');
      assert.equal(typeof ok['id'], 'string');
      const refused = await ws.request({ type: 'publish', topic: 'user/bob/outbox', event: 'note', data: 'not mine' });
      assertErrorReply(refused, 'forbidden', refused['ref'] as number);
      const anon = await anonymous.request({ type: 'publish', topic: 'news/today', event: 'note', data: 'spam' });
      assertErrorReply(anon, 'unauthorized', anon['ref'] as number);
      assert.equal((await ws.request({ type: 'ping' }))['type'], 'pong');
      assert.equal((await anonymous.request({ type: 'ping' }))['type'], 'pong');
      await ws.inbox.waitForEvents(1);
      assert.deepEqual(
        ws.inbox.events.map((e) => e['data']),
        ['mine'],
      );
      assert.equal(anonymous.inbox.events.length, 0, 'nothing reached news/today');
      assert.equal(ws.closeCode, undefined);
      assert.equal(anonymous.closeCode, undefined);
    } finally {
      ws.close();
      anonymous.close();
    }
  });
});
