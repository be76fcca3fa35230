import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { attempt, claimsOf, OTHER_SECRET, SECRET, sign, signWithText, startTinyServer, topicQuery, type TinyServer } from '../helpers/auth.js';
import { WsSubscriber } from '../helpers/clients.js';
import { startHub, type RunningHub } from '../helpers/hub.js';

/** What a browser's WebSocket can see of a connection: its messages, then the close code and reason. */
interface Seen {
  messages: Array<Record<string, unknown>>;
  code: number;
  reason: string;
  /** The HTTP status when the upgrade was refused instead (a browser sees only 1006 then). */
  status?: number;
}

function open(url: string, query: string, headers: Record<string, string> = {}): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws?${query}`, { headers });
    const messages: Array<Record<string, unknown>> = [];
    socket.on('message', (data) => messages.push(JSON.parse(String(data)) as Record<string, unknown>));
    socket.on('unexpected-response', (req, res) => {
      req.destroy();
      resolve({ messages, code: 1006, reason: '', status: res.statusCode ?? 0 });
    });
    socket.on('close', (code, reason) => resolve({ messages, code, reason: reason.toString('utf8') }));
    socket.on('error', (error) => (error.message.includes('Unexpected server response') ? undefined : reject(error)));
  });
}

describe('a WebSocket refused for its credential or rights closes with a 4xxx code a browser can read (real hub)', () => {
  let running: RunningHub;
  let hookDown: RunningHub;
  let limited: RunningHub;
  let hook: TinyServer;
  const alice = (): Promise<string> => sign(claimsOf('alice', { subscribe: ['user/{sub}'] }));

  before(async () => {
    hook = await startTinyServer((_req, _body, res) => {
      res.writeHead(500).end();
    });
    running = await startHub({ jwtSecret: SECRET, jwtClockSkew: 0, allowedOrigins: ['https://app.example'] });
    hookDown = await startHub({ jwtSecret: SECRET, authorizeUrl: hook.url, authorizeCacheTtl: 0 });
    limited = await startHub({ jwtSecret: SECRET, maxConnections: 1 });
  });
  after(async () => {
    await Promise.all([running.close(), hookDown.close(), limited.close()]);
    await hook.close();
  });

  const cases: Array<{ what: string; query: () => Promise<string>; hub?: () => RunningHub; close: number; code: string }> = [
    { what: 'no token for a private topic', query: async () => topicQuery('user/alice'), close: 4401, code: 'unauthorized' },
    {
      what: 'a token with a bad signature',
      query: async () => `${topicQuery('user/alice')}&token=${await signWithText(claimsOf('alice', { subscribe: ['user/{sub}'] }), OTHER_SECRET)}`,
      close: 4401,
      code: 'unauthorized',
    },
    {
      what: 'a token that does not verify, without topics',
      query: async () => `token=${await signWithText(claimsOf('alice', { subscribe: ['user/{sub}'] }), OTHER_SECRET)}`,
      close: 4401,
      code: 'unauthorized',
    },
    {
      what: 'an expired token',
      query: async () => `token=${await sign(claimsOf('alice', { subscribe: ['user/{sub}'] }, { exp: Math.floor(Date.now() / 1000) - 60 }))}`,
      close: 4001,
      code: 'token_expired',
    },
    { what: 'a token for another topic', query: async () => `${topicQuery('user/bob')}&token=${await alice()}`, close: 4403, code: 'forbidden' },
    {
      what: 'an authorization hook that fails',
      query: async () => `${topicQuery('user/alice')}&token=${await alice()}`,
      hub: () => hookDown,
      close: 4503,
      code: 'authorization_unavailable',
    },
  ];

  for (const { what, query, hub, close, code } of cases) {
    it(`${what}: the error, then close ${close} with reason ${code}`, async () => {
      const seen = await open((hub?.() ?? running).url, await query());
      assert.equal(seen.status, undefined, 'the upgrade is accepted');
      assert.equal(seen.code, close);
      assert.equal(seen.reason, code);
      assert.equal(seen.messages.length, 1, JSON.stringify(seen.messages));
      assert.equal(seen.messages[0]!['type'], 'error');
      assert.equal(seen.messages[0]!['code'], code);
      assert.equal(typeof seen.messages[0]!['message'], 'string');
    });
  }

  it('counts the refusals in herald_requests_rejected_total', async () => {
    const text = await (await fetch(`${running.url}/metrics`)).text();
    assert.match(text, /herald_requests_rejected_total\{code="unauthorized"\} [1-9]/);
    assert.match(text, /herald_requests_rejected_total\{code="forbidden"\} [1-9]/);
  });

  it('keeps refusals that are not about the caller as HTTP answers: bad input, Origin, limits', async () => {
    assert.equal((await open(running.url, 'topic=a%2F%2Fb')).status, 400);
    assert.equal((await open(running.url, `token=${await alice()}`, { origin: 'https://evil.example' })).status, 403);
    const holder = await WsSubscriber.open(limited.url, `?token=${await alice()}`);
    assert.equal((await open(limited.url, `token=${await alice()}`)).status, 503, 'a full hub, even for a good token');
    assert.equal((await open(limited.url, 'token=not-a-token')).status, 503, 'a full hub, before the token is looked at');
    holder.close();
  });

  it('a bad cookie from a foreign page is refused for its Origin over HTTP, never told whether the cookie verified', async () => {
    const forged = await signWithText(claimsOf('alice', { subscribe: ['user/{sub}'] }), OTHER_SECRET);
    const outcome = await attempt(running.url, 'ws', '', { cookie: `herald_token=${forged}`, origin: 'https://evil.example' });
    assert.equal(outcome.status, 403);
    assert.equal(outcome.code, 'origin_not_allowed');
  });

  it('a good token still opens the connection', async () => {
    const outcome = await attempt(running.url, 'ws', `${topicQuery('user/alice')}&token=${await alice()}`, { origin: 'https://app.example' });
    assert.equal(outcome.opened, true);
  });
});
