import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attempt, claimsOf, postPublish, sign, topicQuery, TRANSPORTS } from '../helpers/auth.js';
import { openSse } from '../helpers/clients.js';
import { waitUntil } from '../helpers/hub.js';
import { assertErrorReply, assertOpened, assertRefused, bearer, KEY_1, KEY_2, openWs, useHubs } from './fixture.js';

const hubs = useHubs();

describe('connections per address', () => {
  for (const transport of TRANSPORTS) {
    it(`${transport}: the third connection from one address gets 429 too_many_connections_from_ip, also with a forged X-Forwarded-For`, async () => {
      const running = hubs.ip;
      const open = (): Promise<{ close(): void }> => (transport === 'sse' ? openSse(running.url, ['news/a']) : openWs(running.url, topicQuery('news/a')));
      const first = await open();
      const second = await open();
      try {
        assertRefused(await attempt(running.url, transport, topicQuery('news/a')), 429, 'too_many_connections_from_ip');
        // Without trustProxy the header is not believed.
        assertRefused(await attempt(running.url, transport, topicQuery('news/a'), { 'x-forwarded-for': '10.9.8.7' }), 429, 'too_many_connections_from_ip');
        // The other transport counts against the same address.
        assertRefused(await attempt(running.url, transport === 'sse' ? 'ws' : 'sse', topicQuery('news/a')), 429, 'too_many_connections_from_ip');
        first.close();
        await waitUntil(() => running.hub.connectionCount === 1, 'the first connection to be released');
        assertOpened(await attempt(running.url, transport, topicQuery('news/a')), transport);
      } finally {
        first.close();
        second.close();
        await waitUntil(() => running.hub.connectionCount === 0, 'every connection to be released');
      }
    });
  }
});

describe('oversized input', () => {
  const filler = { 'x-filler': 'a'.repeat(20 * 1024) };
  for (const transport of TRANSPORTS) {
    it(`${transport}: a 20 KB request header -> 431 header_too_large with the JSON body`, async () => {
      const outcome = await attempt(hubs.main.url, transport, topicQuery('news/today'), filler);
      assertRefused(outcome, 431, 'header_too_large');
      assert.equal(typeof JSON.parse(outcome.body).error.message, 'string');
    });
  }

  it('POST /publish: a 20 KB request header -> 431 header_too_large', async () => {
    const answer = await postPublish(hubs.main.url, { topic: 'user/alice/outbox', data: 1 }, { ...bearer(KEY_1), ...filler });
    assert.equal(answer.status, 431);
    assert.equal(answer.json?.error?.code, 'header_too_large');
  });

  it('ws: a frame over maxBodyBytes (4096) closes the connection with 1009', async () => {
    const running = hubs.rate;
    const ws = await openWs(running.url, '', await sign(claimsOf('big', { subscribe: ['big/**'] })));
    ws.socket.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(5000) }));
    assert.equal(await ws.closed(), 1009);
  });
});

describe('rates', () => {
  const batch = (count: number, topic = 'rate/t'): Array<{ topic: string; data: number }> => Array.from({ length: count }, (_, i) => ({ topic, data: i }));

  it('POST /publish: a batch of 6 over publishBurst 5 -> 429 rate_limited, taking nothing; then 5 pass and the 6th is refused', async () => {
    const url = hubs.rate.url;
    const over = await postPublish(url, batch(6), bearer(KEY_1));
    assert.equal(over.status, 429, over.text);
    assert.equal(over.json.error.code, 'rate_limited');
    const five = await postPublish(url, batch(5), bearer(KEY_1));
    assert.equal(five.status, 201, five.text);
    assert.equal(five.json.ids.length, 5);
    const sixth = await postPublish(url, batch(1), bearer(KEY_1));
    assert.equal(sixth.status, 429);
    assert.equal(sixth.json.error.code, 'rate_limited');
  });

  it('POST /publish: six quick single publishes -> five 201 and one 429; each key has its own budget', async () => {
    const url = hubs.rate.url;
    const statuses = await Promise.all(
      Array.from({ length: 6 }, (_, i) => postPublish(url, { topic: 'rate/t', data: i }, bearer(KEY_2)).then((a) => a.status)),
    );
    assert.deepEqual([...statuses].sort(), [201, 201, 201, 201, 201, 429]);
    const other = await postPublish(url, batch(1), bearer(await sign(claimsOf('someone', { publish: ['rate/**'] }))));
    assert.equal(other.status, 201, 'a token publisher has its own budget');
  });

  it('ws publish: the 6th quick publish gets error rate_limited with its ref and the connection stays open', async () => {
    const ws = await openWs(hubs.rate.url, '', await sign(claimsOf('ws-publisher', { publish: ['rate/**'] })));
    try {
      for (let i = 1; i <= 6; i++) ws.socket.send(JSON.stringify({ type: 'publish', topic: 'rate/ws', data: i, ref: `p${i}` }));
      await waitUntil(() => ws.inbox.messages.filter((m) => typeof m['ref'] === 'string').length === 6, 'six replies');
      const replies = ws.inbox.messages.filter((m) => typeof m['ref'] === 'string');
      assert.deepEqual(
        replies.slice(0, 5).map((m) => m['type']),
        ['published', 'published', 'published', 'published', 'published'],
      );
      assertErrorReply(replies[5]!, 'rate_limited', 'p6');
      assert.equal((await ws.request({ type: 'ping' }))['type'], 'pong');
      assert.equal(ws.closeCode, undefined);
    } finally {
      ws.close();
    }
  });

  it('ws: a message flood over wsMessageRate (10/s) -> error rate_limited and close 4029', async () => {
    const ws = await openWs(hubs.rate.url, '', await sign(claimsOf('flooder', { subscribe: ['rate/**'] })));
    for (let i = 0; i < 60; i++) ws.socket.send(JSON.stringify({ type: 'ping', ref: i }));
    assert.equal(await ws.closed(), 4029);
    assert.ok(
      ws.inbox.control('error').some((m) => m['code'] === 'rate_limited'),
      JSON.stringify(ws.inbox.control('error')),
    );
    assert.ok(ws.inbox.control('pong').length < 60, 'not every ping was answered');
  });

  it('ws: a publish-key connection is a trusted backend, exempt from wsMessageRate', async () => {
    const ws = await openWs(hubs.rate.url, '', KEY_1);
    try {
      for (let i = 0; i < 60; i++) ws.socket.send(JSON.stringify({ type: 'ping', ref: i }));
      await waitUntil(() => ws.inbox.control('pong').length === 60, 'sixty pongs');
      assert.equal(ws.closeCode, undefined);
    } finally {
      ws.close();
    }
  });
});
