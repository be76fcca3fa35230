import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  attempt,
  claimsOf,
  nowSeconds,
  OTHER_SECRET,
  postPublish,
  refusedStatus,
  SECRET,
  sign,
  signWithText,
  topicQuery,
  TRANSPORTS,
  type HeraldClaim,
} from './helpers/auth.js';
import { parseSseFrames, rawGet, WsSubscriber, type Message } from './helpers/clients.js';
import { sleep, startHub, waitUntil, type RunningHub } from './helpers/hub.js';
import { childEnv, runHerald, startServe, stopServe, type CliResult } from './helpers/serve.js';

const KEY = 'token-expiry-publish-key-0123456789';
const FEED = 'user/alice/feed';
const ALICE: HeraldClaim = { subscribe: ['user/{sub}/**'] };

/** A token for `sub` expiring `ttl` seconds from now (the hub has no clock skew). */
const tokenFor = (sub: string, ttl: number, herald: HeraldClaim = ALICE): Promise<string> => sign(claimsOf(sub, herald, { exp: nowSeconds() + ttl }));

/** Publishes to `topic` every few milliseconds until stopped; `ids` holds the ids in log order. */
function publishContinuously(url: string, topic: string): { ids: string[]; stop(): Promise<void> } {
  const ids: string[] = [];
  let running = true;
  const loop = (async () => {
    let n = 0;
    while (running) {
      const answer = await postPublish(url, { topic, type: 'tick', data: n++ }, { authorization: `Bearer ${KEY}` });
      assert.equal(answer.status, 201, answer.text);
      ids.push(...(answer.json.ids as string[]));
      await sleep(5);
    }
  })();
  return {
    ids,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Decoded `data:` of every SSE frame so far. */
const sseMessages = (text: string): Message[] =>
  parseSseFrames(text)
    .filter((f) => f['data'] !== undefined)
    .map((f) => JSON.parse(f['data']!) as Message);
const eventIds = (messages: Message[]): string[] =>
  messages.filter((m) => typeof m['id'] === 'string' && typeof m['topic'] === 'string').map((m) => m['id'] as string);

describe('token expiry', () => {
  let running: RunningHub;

  before(async () => {
    running = await startHub({ jwtSecret: SECRET, jwtClockSkew: 0, publishKeys: [KEY] });
  });
  after(async () => {
    await running.close();
  });

  it('sse: the stream gets error token_expired and ends; a reconnect with a new token and Last-Event-ID loses and repeats nothing', async () => {
    const first = await rawGet(`${running.url}/events?${topicQuery(FEED)}`, { authorization: `Bearer ${await tokenFor('alice', 2)}` });
    assert.equal(first.response.statusCode, 200);
    await waitUntil(() => first.text().includes('"type":"connected"'), 'connected');
    const publisher = publishContinuously(running.url, FEED);
    try {
      await waitUntil(() => first.ended, 'the stream to end at expiry', 6000);
      const before = sseMessages(first.text());
      const last = before[before.length - 1]!;
      assert.equal(last['type'], 'error');
      assert.equal(last['code'], 'token_expired');
      const seen = eventIds(before);
      assert.ok(seen.length > 0, 'events arrived before the expiry');

      const second = await rawGet(`${running.url}/events?${topicQuery(FEED)}`, {
        authorization: `Bearer ${await tokenFor('alice', 60)}`,
        'last-event-id': seen[seen.length - 1]!,
      });
      try {
        assert.equal(second.response.statusCode, 200);
        await waitUntil(() => eventIds(sseMessages(second.text())).length >= 5, 'live events after the reconnect');
        await publisher.stop();
        const lastPublished = publisher.ids[publisher.ids.length - 1]!;
        await waitUntil(() => eventIds(sseMessages(second.text())).includes(lastPublished), 'the last published event');
        const after = sseMessages(second.text());
        assert.equal(after.find((m) => m['type'] === 'connected')?.['resumed'], true);
        assert.deepEqual([...seen, ...eventIds(after)], publisher.ids, 'every event exactly once, in order');
      } finally {
        second.destroy();
      }
    } finally {
      await publisher.stop();
      first.destroy();
    }
  });

  it('ws: error token_expired then close 4001; a reconnect with a new token and since loses and repeats nothing', async () => {
    const first = await WsSubscriber.open(running.url, `?${topicQuery(FEED)}&token=${await tokenFor('alice', 2)}`);
    const publisher = publishContinuously(running.url, FEED);
    try {
      assert.equal(await first.closed(6000), 4001);
      const errors = first.inbox.control('error');
      assert.equal(errors.length, 1);
      assert.equal(errors[0]!['code'], 'token_expired');
      assert.equal(first.inbox.messages[first.inbox.messages.length - 1], errors[0], 'the error is the last message');
      const seen = first.inbox.events.map((e) => e['id'] as string);
      assert.ok(seen.length > 0, 'events arrived before the expiry');

      const second = await WsSubscriber.open(
        running.url,
        `?${topicQuery(FEED)}&since=${encodeURIComponent(seen[seen.length - 1]!)}&token=${await tokenFor('alice', 60)}`,
      );
      try {
        assert.equal(second.inbox.control('connected')[0]!['resumed'], true);
        await second.inbox.waitForEvents(5);
        await publisher.stop();
        const lastPublished = publisher.ids[publisher.ids.length - 1]!;
        await waitUntil(() => second.inbox.events.some((e) => e['id'] === lastPublished), 'the last published event');
        assert.deepEqual([...seen, ...second.inbox.events.map((e) => e['id'] as string)], publisher.ids, 'every event exactly once, in order');
      } finally {
        second.close();
      }
    } finally {
      await publisher.stop();
      first.close();
    }
  });

  it('ws: refresh before expiry keeps the connection past the old exp and answers refreshed with the new expiresAt', async () => {
    const shortToken = await tokenFor('alice', 2);
    const refreshed = await WsSubscriber.open(running.url, `?${topicQuery(FEED)}&token=${shortToken}`);
    const unrefreshed = await WsSubscriber.open(running.url, `?${topicQuery(FEED)}&token=${shortToken}`);
    try {
      const exp = nowSeconds() + 60;
      const reply = await refreshed.request({ type: 'refresh', token: await sign(claimsOf('alice', ALICE, { exp })) });
      assert.equal(reply['type'], 'refreshed', JSON.stringify(reply));
      assert.equal(reply['expiresAt'], exp * 1000, 'exp plus a skew of 0');
      // The same old token without a refresh ends at its expiry; the refreshed connection does not.
      // Both had the same deadline, so the sweep that closed one would have closed the other too.
      assert.equal(await unrefreshed.closed(6000), 4001);
      assert.equal((await postPublish(running.url, { topic: FEED, data: 'after the old exp' }, { authorization: `Bearer ${KEY}` })).status, 201);
      const events = await refreshed.inbox.waitForEvents(1);
      assert.equal(events[events.length - 1]!['data'], 'after the old exp');
      assert.equal((await refreshed.request({ type: 'ping' }))['type'], 'pong');
      assert.equal(refreshed.closeCode, undefined);
      assert.equal(refreshed.inbox.control('error').length, 0);
      assert.equal(refreshed.inbox.control('unsubscribed').length, 0, 'the new token covers every held topic');
    } finally {
      refreshed.close();
      unrefreshed.close();
    }
  });

  it('ws: a refresh with a token for another sub, a bad signature or an expired token gets an error with its ref; the connection stays as it was', async () => {
    const ws = await WsSubscriber.open(running.url, `?${topicQuery(FEED)}&token=${await tokenFor('alice', 60)}`);
    try {
      const cases: Array<[string, string]> = [
        [await tokenFor('bob', 60, { subscribe: ['**'] }), 'forbidden'],
        [await signWithText(claimsOf('alice', { subscribe: ['**'] }, { exp: nowSeconds() + 60 }), OTHER_SECRET), 'unauthorized'],
        [await sign(claimsOf('alice', { subscribe: ['**'] }, { exp: nowSeconds() - 60 })), 'token_expired'],
      ];
      for (const [candidate, code] of cases) {
        const reply = await ws.request({ type: 'refresh', token: candidate });
        assert.equal(reply['type'], 'error', JSON.stringify(reply));
        assert.equal(reply['code'], code);
        assert.equal(typeof reply['ref'], 'number');
      }
      // None of the refused tokens took effect: user/bob is still not allowed.
      const widen = await ws.request({ type: 'subscribe', topics: ['user/bob/feed'] });
      assert.equal(widen['type'], 'error');
      assert.equal(widen['code'], 'forbidden');
      assert.equal((await postPublish(running.url, { topic: FEED, data: 'still here' }, { authorization: `Bearer ${KEY}` })).status, 201);
      const [event] = await ws.inbox.waitForEvents(1);
      assert.equal(event!['data'], 'still here');
      assert.equal(ws.closeCode, undefined);
    } finally {
      ws.close();
    }
  });

  it('ws: a refreshed token that no longer covers a held topic unsubscribes it with reason forbidden; other topics continue', async () => {
    const both: HeraldClaim = { subscribe: ['user/{sub}/**', 'team/*'] };
    const ws = await WsSubscriber.open(running.url, `?${topicQuery(FEED, 'team/red')}&token=${await tokenFor('alice', 60, both)}`);
    const publishTo = async (topic: string, data: string): Promise<void> => {
      assert.equal((await postPublish(running.url, { topic, data }, { authorization: `Bearer ${KEY}` })).status, 201);
    };
    try {
      await publishTo('team/red', 'team before');
      await ws.inbox.waitForEvents(1);
      const reply = await ws.request({ type: 'refresh', token: await tokenFor('alice', 60) });
      assert.equal(reply['type'], 'refreshed', JSON.stringify(reply));
      const unsubscribed = ws.inbox.control('unsubscribed');
      assert.equal(unsubscribed.length, 1, 'announced before the refreshed reply');
      assert.deepEqual(unsubscribed[0], { type: 'unsubscribed', topics: ['team/red'], reason: 'forbidden' });

      await publishTo('team/red', 'team after');
      await publishTo(FEED, 'feed after');
      await waitUntil(() => ws.inbox.events.some((e) => e['data'] === 'feed after'), 'the feed event');
      // Events reach a connection in log order: a team/red event after the refresh would have come first.
      assert.deepEqual(
        ws.inbox.events.map((e) => e['data']),
        ['team before', 'feed after'],
      );
      const again = await ws.request({ type: 'subscribe', topics: ['team/red'] });
      assert.equal(again['code'], 'forbidden', 'nor can it subscribe again');
      assert.equal(ws.closeCode, undefined);
    } finally {
      ws.close();
    }
  });
});

/** Runs `herald token ...args` without the test process's settings (HERALD_JWT_SECRET among them); resolves with exit code, stdout and stderr. */
const heraldToken = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> => runHerald(['token', ...args], { ...childEnv(), ...env });

const payloadOf = (token: string): Record<string, any> => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, any>;

describe('herald token', () => {
  const ARGS = ['--sub', 'alice', '--subscribe', 'user/{sub}', '--ttl', '15m'];
  let running: RunningHub;

  before(async () => {
    running = await startHub({ jwtSecret: SECRET });
  });
  after(async () => {
    await running.close();
  });

  for (const [how, args, env] of [
    ['--secret', [...ARGS, '--secret', SECRET], {}],
    ['HERALD_JWT_SECRET', ARGS, { HERALD_JWT_SECRET: SECRET }],
  ] as const) {
    it(`with ${how}: prints a token the hub with that secret accepts for user/alice and refuses (403) for user/bob`, async () => {
      const { code, stdout, stderr } = await heraldToken([...args], env);
      assert.equal(code, 0, stderr);
      const token = stdout.trim();
      assert.match(stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/, 'one JWT on one line');
      const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      assert.equal(header['alg'], 'HS256');
      const payload = payloadOf(token);
      assert.equal(payload['sub'], 'alice');
      assert.deepEqual(payload['herald'], { subscribe: ['user/{sub}'] });
      assert.ok(Math.abs(payload['exp'] - payload['iat'] - 900) <= 1, `exp - iat is 15 minutes: ${payload['exp'] - payload['iat']}`);
      for (const transport of TRANSPORTS) {
        const allowed = await attempt(running.url, transport, topicQuery('user/alice'), { authorization: `Bearer ${token}` });
        assert.equal(allowed.opened, true, `${transport}: ${allowed.status} ${allowed.body}`);
        const refused = await attempt(running.url, transport, topicQuery('user/bob'), { authorization: `Bearer ${token}` });
        assert.equal(refusedStatus(refused), 403, `${transport}: ${refused.body}`);
        assert.equal(refused.code, 'forbidden');
      }
    });
  }

  it('a token signed with another secret is refused with 401', async () => {
    const { code, stdout } = await heraldToken([...ARGS, '--secret', 'another-secret-another-secret-another-secret']);
    assert.equal(code, 0);
    const outcome = await attempt(running.url, 'sse', topicQuery('user/alice'), { authorization: `Bearer ${stdout.trim()}` });
    assert.equal(outcome.status, 401);
    assert.equal(outcome.code, 'unauthorized');
  });

  it('refuses to mint without a secret of 32+ characters (exit 2, naming --secret and HERALD_JWT_SECRET)', async () => {
    for (const args of [ARGS, [...ARGS, '--secret', 'short']]) {
      const { code, stdout, stderr } = await heraldToken([...args]);
      assert.equal(code, 2, stderr);
      assert.equal(stdout, '');
      assert.match(stderr, /--secret/);
      assert.match(stderr, /HERALD_JWT_SECRET/);
    }
  });

  it('herald serve with HERALD_JWT_SECRET listens on every interface, says authentication is on, and accepts the minted token', async () => {
    const serve = await startServe(['--log-level', 'info'], { ...process.env, HERALD_JWT_SECRET: SECRET });
    try {
      assert.match(serve.url, /^http:\/\/0\.0\.0\.0:\d+$/);
      await waitUntil(() => /authentication is on/.test(serve.output()), 'the authentication notice');
      assert.ok(!serve.output().includes(SECRET), 'the secret is not logged');
      const url = serve.url.replace('0.0.0.0', '127.0.0.1');
      const { stdout } = await heraldToken(ARGS, { HERALD_JWT_SECRET: SECRET });
      const ok = await attempt(url, 'ws', topicQuery('user/alice'), { authorization: `Bearer ${stdout.trim()}` });
      assert.equal(ok.opened, true, ok.body);
      const anonymous = await attempt(url, 'sse', topicQuery('user/alice'));
      assert.equal(anonymous.status, 401);
    } finally {
      await stopServe(serve);
    }
  });
});
