import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { ErrorCode, HubOptions } from '../src/index.js';
import {
  attempt,
  claimsOf,
  httpRequest,
  MemoryStream,
  nowSeconds,
  OTHER_SECRET,
  postPublish,
  SECRET,
  sign,
  signWithText,
  startTinyServer,
  topicQuery,
  TRANSPORTS,
  unsignedToken,
  withPayload,
  type HeraldClaim,
  type Outcome,
  type TinyServer,
  type Transport,
} from './helpers/auth.js';
import { openSse, WsSubscriber, type Message } from './helpers/clients.js';
import { sleep, startHub, waitUntil, type RunningHub } from './helpers/hub.js';

const AUDIENCE = 'herald-test';
const ISSUER = 'https://auth.example';
const KEY_1 = 'publish-key-one-0123456789abcdef';
const KEY_2 = 'publish-key-two-0123456789abcdef';
const APP = 'https://app.example';
const EVIL = 'https://evil.example';

/** Alice's rights in most rows: her own topic and subtree; publishing to her outbox. */
const ALICE: HeraldClaim = { subscribe: ['user/{sub}', 'user/{sub}/**'], publish: ['user/{sub}/outbox'] };

/** A token for the main hub: its audience and issuer, five minutes to live, unless `extra` says otherwise; `null` rights: no herald claim. */
function token(sub: string | undefined, herald: HeraldClaim | null = ALICE, extra: Record<string, unknown> = {}): Promise<string> {
  return sign(claimsOf(sub, herald ?? undefined, { aud: AUDIENCE, iss: ISSUER, ...extra }));
}

const pem = (key: KeyObject): string => key.export({ type: 'spki', format: 'pem' }).toString();
const RSA = generateKeyPairSync('rsa', { modulusLength: 2048 });
const OTHER_RSA = generateKeyPairSync('rsa', { modulusLength: 2048 });
const EC = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const OTHER_EC = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ED = generateKeyPairSync('ed25519');

const bearer = (value: string): Record<string, string> => ({ authorization: `Bearer ${value}` });

function assertRefused(outcome: Outcome, status: number, code: ErrorCode): void {
  assert.equal(outcome.opened, false, 'the subscription must not open');
  assert.equal(outcome.status, status, outcome.body);
  assert.equal(outcome.code, code, outcome.body);
  assert.match(String(outcome.headers['content-type']), /^application\/json/);
}

function assertOpened(outcome: Outcome, transport: Transport): void {
  assert.equal(outcome.status, transport === 'sse' ? 200 : 101, outcome.body);
  assert.equal(outcome.opened, true, 'the connected message arrives');
}

function assertErrorReply(message: Message, code: ErrorCode, ref: number | string): void {
  assert.equal(message['type'], 'error', JSON.stringify(message));
  assert.equal(message['code'], code, JSON.stringify(message));
  assert.equal(message['ref'], ref);
}

/** A WebSocket subscriber that sends `token` in the query. */
function openWs(url: string, query: string, bearerToken?: string): Promise<WsSubscriber> {
  const auth = bearerToken === undefined ? '' : `${query === '' ? '' : '&'}token=${encodeURIComponent(bearerToken)}`;
  return WsSubscriber.open(url, `?${query}${auth}`);
}

type Hubs = 'main' | 'rs' | 'es' | 'ed' | 'cookie' | 'ip' | 'rate' | 'origin' | 'star' | 'keys';
const hubs = {} as Record<Hubs, RunningHub>;
const HUB_OPTIONS: Record<Hubs, HubOptions> = {
  main: { jwtSecret: SECRET, jwtAudience: AUDIENCE, jwtIssuer: ISSUER, publicTopics: ['news/**'], publishKeys: [KEY_1, KEY_2] },
  rs: { jwtPublicKey: pem(RSA.publicKey) },
  es: { jwtPublicKey: pem(EC.publicKey) },
  ed: { jwtPublicKey: pem(ED.publicKey) },
  cookie: { jwtSecret: SECRET, tokenCookie: 'sid' },
  ip: { jwtSecret: SECRET, publicTopics: ['news/**'], maxConnectionsPerIp: 2 },
  rate: { jwtSecret: SECRET, publishKeys: [KEY_1, KEY_2], publishRate: 5, publishBurst: 5, wsMessageRate: 10, maxBodyBytes: 4096 },
  origin: { jwtSecret: SECRET, publicTopics: ['news/**'], publishKeys: [KEY_1], allowedOrigins: [APP] },
  star: { jwtSecret: SECRET, publicTopics: ['news/**'], allowedOrigins: ['*'] },
  keys: { publishKeys: [KEY_1] },
};

before(async () => {
  await Promise.all(
    Object.entries(HUB_OPTIONS).map(async ([name, options]) => {
      hubs[name as Hubs] = await startHub(options);
    }),
  );
});
after(async () => {
  await Promise.all(Object.values(hubs).map((running) => running.close()));
});

interface Row {
  name: string;
  hub?: Hubs;
  /** The token, sent as `Authorization: Bearer`; none for an anonymous client. */
  token?: () => Promise<string> | string;
  /** The query (already encoded), without the token. */
  query: string;
  expect: 'open' | [status: number, code: ErrorCode];
}

const alice = (): Promise<string> => token('alice');
const Q_ALICE = topicQuery('user/alice');

const ROWS: Row[] = [
  // Signatures and algorithms.
  { name: 'a valid HS256 token for its own topic', token: alice, query: Q_ALICE, expect: 'open' },
  { name: 'a valid token for its own subtree (user/alice/**)', token: alice, query: topicQuery('user/alice/**'), expect: 'open' },
  { name: 'alg none with an empty signature', token: () => unsignedToken(claimsOf('alice', ALICE, { aud: AUDIENCE, iss: ISSUER })), query: Q_ALICE, expect: [401, 'unauthorized'] },
  {
    name: 'alg none keeping a valid signature',
    token: async () => unsignedToken(claimsOf('alice', ALICE, { aud: AUDIENCE, iss: ISSUER }), { alg: 'none', typ: 'JWT' }, (await alice()).split('.')[2]),
    query: Q_ALICE,
    expect: [401, 'unauthorized'],
  },
  { name: 'alg NONE (upper case)', token: () => unsignedToken(claimsOf('alice', ALICE, { aud: AUDIENCE, iss: ISSUER }), { alg: 'NONE' }), query: Q_ALICE, expect: [401, 'unauthorized'] },
  { name: 'a bad signature (another secret)', token: () => signWithText(claimsOf('alice', ALICE, { aud: AUDIENCE, iss: ISSUER }), OTHER_SECRET), query: Q_ALICE, expect: [401, 'unauthorized'] },
  {
    name: "bob's payload under alice's signature",
    token: async () => withPayload(await alice(), claimsOf('bob', ALICE, { aud: AUDIENCE, iss: ISSUER })),
    query: topicQuery('user/bob'),
    expect: [401, 'unauthorized'],
  },
  { name: 'HS512 with the right secret (outside the HS256 allowlist)', token: () => signWithText(claimsOf('alice', ALICE, { aud: AUDIENCE, iss: ISSUER }), SECRET, 'HS512'), query: Q_ALICE, expect: [401, 'unauthorized'] },
  { name: 'a token that is not a JWT', token: () => 'not-a-jwt', query: Q_ALICE, expect: [401, 'unauthorized'] },
  { name: 'a token over 8192 characters (ignored: anonymous)', token: () => 'x'.repeat(9000), query: Q_ALICE, expect: [401, 'unauthorized'] },
  // Time.
  { name: 'expired 60 s ago (beyond the 5 s skew)', token: () => token('alice', ALICE, { exp: nowSeconds() - 60 }), query: Q_ALICE, expect: [401, 'token_expired'] },
  { name: 'expired 2 s ago (within the 5 s skew)', token: () => token('alice', ALICE, { exp: nowSeconds() - 2 }), query: Q_ALICE, expect: 'open' },
  { name: 'no exp (a token that never expires)', token: () => token('alice', ALICE, { exp: undefined }), query: Q_ALICE, expect: [401, 'unauthorized'] },
  { name: 'not valid before 60 s from now', token: () => token('alice', ALICE, { nbf: nowSeconds() + 60 }), query: Q_ALICE, expect: [401, 'unauthorized'] },
  { name: 'not valid before 2 s from now (within the skew)', token: () => token('alice', ALICE, { nbf: nowSeconds() + 2 }), query: Q_ALICE, expect: 'open' },
  // Audience and issuer.
  { name: 'a wrong audience', token: () => token('alice', ALICE, { aud: 'another-service' }), query: Q_ALICE, expect: [401, 'unauthorized'] },
  { name: 'no audience', token: () => token('alice', ALICE, { aud: undefined }), query: Q_ALICE, expect: [401, 'unauthorized'] },
  { name: 'a wrong issuer', token: () => token('alice', ALICE, { iss: 'https://evil.example' }), query: Q_ALICE, expect: [401, 'unauthorized'] },
  { name: 'no issuer', token: () => token('alice', ALICE, { iss: undefined }), query: Q_ALICE, expect: [401, 'unauthorized'] },
  // Anonymous clients and public topics.
  { name: 'no token for a private topic', query: Q_ALICE, expect: [401, 'unauthorized'] },
  { name: 'no token for a public topic (news/today)', query: topicQuery('news/today'), expect: 'open' },
  { name: 'no token for the public pattern news/**', query: topicQuery('news/**'), expect: 'open' },
  { name: 'no token for a public and a private topic together', query: topicQuery('news/today', 'user/alice'), expect: [401, 'unauthorized'] },
  { name: 'no token for ** (wider than the public news/**)', query: topicQuery('**'), expect: [401, 'unauthorized'] },
  { name: 'a publish key used as a subscriber token', token: () => KEY_1, query: Q_ALICE, expect: [401, 'unauthorized'] },
  // Rights.
  { name: "a valid token for another user's topic", token: alice, query: topicQuery('user/bob'), expect: [403, 'forbidden'] },
  { name: "its own and another user's topic together", token: alice, query: topicQuery('user/alice', 'user/bob'), expect: [403, 'forbidden'] },
  { name: 'a token without a herald claim', token: () => token('alice', null), query: Q_ALICE, expect: [403, 'forbidden'] },
  { name: 'herald.subscribe as a string, not an array', token: () => token('alice', { subscribe: 'user/alice' } as unknown as HeraldClaim), query: Q_ALICE, expect: [403, 'forbidden'] },
  // Wildcard escalation.
  { name: 'claim user/* vs user/1/private', token: () => token('x', { subscribe: ['user/*'] }), query: topicQuery('user/1/private'), expect: [403, 'forbidden'] },
  { name: 'claim user/* vs user/1 (covered)', token: () => token('x', { subscribe: ['user/*'] }), query: topicQuery('user/1'), expect: 'open' },
  { name: 'claim user/* vs user/**', token: () => token('x', { subscribe: ['user/*'] }), query: topicQuery('user/**'), expect: [403, 'forbidden'] },
  { name: 'claim user/{sub} with sub "*" vs user/*', token: () => token('*', { subscribe: ['user/{sub}'] }), query: topicQuery('user/*'), expect: [403, 'forbidden'] },
  { name: 'claim user/{sub} with sub "*" vs user/bob (the pattern is dropped)', token: () => token('*', { subscribe: ['user/{sub}'] }), query: topicQuery('user/bob'), expect: [403, 'forbidden'] },
  { name: 'claim user/{sub} with sub "**" vs user/**', token: () => token('**', { subscribe: ['user/{sub}'] }), query: topicQuery('user/**'), expect: [403, 'forbidden'] },
  { name: 'claim user/{sub} with sub "a/b" vs user/a/b', token: () => token('a/b', { subscribe: ['user/{sub}'] }), query: topicQuery('user/a/b'), expect: [403, 'forbidden'] },
  { name: 'claim user/{sub} with sub ".." vs user', token: () => token('..', { subscribe: ['user/{sub}'] }), query: topicQuery('user'), expect: [403, 'forbidden'] },
  { name: 'claim user/{sub} vs **', token: alice, query: topicQuery('**'), expect: [403, 'forbidden'] },
  { name: 'claim user/{sub} vs *', token: alice, query: topicQuery('*'), expect: [403, 'forbidden'] },
  { name: 'claim user/{sub} vs user/*', token: alice, query: topicQuery('user/*'), expect: [403, 'forbidden'] },
  { name: 'claim user/{sub} vs */alice', token: alice, query: topicQuery('*/alice'), expect: [403, 'forbidden'] },
  { name: 'claim user/{sub}/private vs */alice/private', token: () => token('alice', { subscribe: ['user/{sub}/private'] }), query: topicQuery('*/alice/private'), expect: [403, 'forbidden'] },
  { name: 'claim user/{sub}/private vs user/*/private', token: () => token('alice', { subscribe: ['user/{sub}/private'] }), query: topicQuery('user/*/private'), expect: [403, 'forbidden'] },
  { name: 'claim role/{role} with role admin vs role/admin', token: () => token('x', { subscribe: ['role/{role}'] }, { role: 'admin' }), query: topicQuery('role/admin'), expect: 'open' },
  { name: 'claim role/{role} without a role claim vs role/admin', token: () => token('x', { subscribe: ['role/{role}'] }), query: topicQuery('role/admin'), expect: [403, 'forbidden'] },
  { name: 'claim role/{role} with role "admin/**" vs role/admin/x', token: () => token('x', { subscribe: ['role/{role}'] }, { role: 'admin/**' }), query: topicQuery('role/admin/x'), expect: [403, 'forbidden'] },
  { name: 'claim ** vs ** (covered)', token: () => token('root', { subscribe: ['**'] }), query: topicQuery('**'), expect: 'open' },
  // Path tricks and control characters in the query.
  { name: 'topic a%2F..%2Fb (decodes to a/../b)', token: alice, query: 'topic=a%2F..%2Fb', expect: [400, 'invalid_topic'] },
  { name: 'topic user%2Falice%2F..%2Fbob', token: alice, query: 'topic=user%2Falice%2F..%2Fbob', expect: [400, 'invalid_topic'] },
  { name: 'topic user/alice/%2e%2e/bob', token: alice, query: 'topic=user/alice/%2e%2e/bob', expect: [400, 'invalid_topic'] },
  { name: 'topic user%2Falice (decodes to user/alice, which the token covers)', token: alice, query: 'topic=user%2Falice', expect: 'open' },
  { name: 'topic user%2Fbob (decodes to user/bob, which it does not)', token: alice, query: 'topic=user%2Fbob', expect: [403, 'forbidden'] },
  { name: 'topic with CR LF', token: alice, query: 'topic=user/alice%0D%0Aevent:%20x', expect: [400, 'invalid_topic'] },
  { name: 'topic with NUL', token: alice, query: 'topic=user/alice%00', expect: [400, 'invalid_topic'] },
  { name: 'topic with a space', token: alice, query: 'topic=user/alice%20x', expect: [400, 'invalid_topic'] },
  { name: 'lastEventId with CR LF', token: alice, query: `${Q_ALICE}&lastEventId=1%0D%0Adata:%20x`, expect: [400, 'invalid_since'] },
  // Public-key hubs.
  { name: 'RS256 hub: a valid RS256 token', hub: 'rs', token: () => sign(claimsOf('alice', ALICE), { alg: 'RS256', key: RSA.privateKey }), query: Q_ALICE, expect: 'open' },
  { name: 'RS256 hub: HS256 signed with the RSA public key PEM (key confusion)', hub: 'rs', token: () => signWithText(claimsOf('alice', ALICE), pem(RSA.publicKey)), query: Q_ALICE, expect: [401, 'unauthorized'] },
  { name: 'RS256 hub: RS256 signed by another key', hub: 'rs', token: () => sign(claimsOf('alice', ALICE), { alg: 'RS256', key: OTHER_RSA.privateKey }), query: Q_ALICE, expect: [401, 'unauthorized'] },
  { name: 'RS256 hub: alg none', hub: 'rs', token: () => unsignedToken(claimsOf('alice', ALICE)), query: Q_ALICE, expect: [401, 'unauthorized'] },
  { name: 'RS256 hub: an ES256 token', hub: 'rs', token: () => sign(claimsOf('alice', ALICE), { alg: 'ES256', key: EC.privateKey }), query: Q_ALICE, expect: [401, 'unauthorized'] },
  { name: 'RS256 hub: a valid token for another topic', hub: 'rs', token: () => sign(claimsOf('alice', ALICE), { alg: 'RS256', key: RSA.privateKey }), query: topicQuery('user/bob'), expect: [403, 'forbidden'] },
  { name: 'ES256 hub: a valid ES256 token', hub: 'es', token: () => sign(claimsOf('alice', ALICE), { alg: 'ES256', key: EC.privateKey }), query: Q_ALICE, expect: 'open' },
  { name: 'ES256 hub: HS256 signed with the EC public key PEM', hub: 'es', token: () => signWithText(claimsOf('alice', ALICE), pem(EC.publicKey)), query: Q_ALICE, expect: [401, 'unauthorized'] },
  { name: 'ES256 hub: ES256 signed by another key', hub: 'es', token: () => sign(claimsOf('alice', ALICE), { alg: 'ES256', key: OTHER_EC.privateKey }), query: Q_ALICE, expect: [401, 'unauthorized'] },
  { name: 'EdDSA hub: a valid EdDSA token', hub: 'ed', token: () => sign(claimsOf('alice', ALICE), { alg: 'EdDSA', key: ED.privateKey }), query: Q_ALICE, expect: 'open' },
  { name: 'EdDSA hub: HS256 signed with the Ed25519 public key PEM', hub: 'ed', token: () => signWithText(claimsOf('alice', ALICE), pem(ED.publicKey)), query: Q_ALICE, expect: [401, 'unauthorized'] },
  { name: 'EdDSA hub: an RS256 token', hub: 'ed', token: () => sign(claimsOf('alice', ALICE), { alg: 'RS256', key: RSA.privateKey }), query: Q_ALICE, expect: [401, 'unauthorized'] },
  { name: 'EdDSA hub: an expired EdDSA token', hub: 'ed', token: () => sign(claimsOf('alice', ALICE, { exp: nowSeconds() - 60 }), { alg: 'EdDSA', key: ED.privateKey }), query: Q_ALICE, expect: [401, 'token_expired'] },
];

describe('tokens and rights', () => {
  for (const row of ROWS) {
    for (const transport of TRANSPORTS) {
      const label = row.expect === 'open' ? 'opens' : `${row.expect[0]} ${row.expect[1]}`;
      it(`${transport}: ${row.name} -> ${label}`, async () => {
        const headers = row.token === undefined ? {} : bearer(await row.token());
        const outcome = await attempt(hubs[row.hub ?? 'main'].url, transport, row.query, headers);
        if (row.expect === 'open') assertOpened(outcome, transport);
        else assertRefused(outcome, row.expect[0], row.expect[1]);
      });
    }
  }

  it('over WebSocket, refuses a subscribe message the token does not cover with forbidden and its ref, subscribing none of it', async () => {
    const main = hubs.main;
    const ws = await openWs(main.url, '', await alice());
    try {
      const reply = await ws.request({ type: 'subscribe', topics: ['user/alice', 'user/bob'] });
      assertErrorReply(reply, 'forbidden', reply['ref'] as number);
      const wild = await ws.request({ type: 'subscribe', topics: ['user/*'] });
      assertErrorReply(wild, 'forbidden', wild['ref'] as number);
      const traversal = await ws.request({ type: 'subscribe', topics: ['user/alice/../bob'] });
      assertErrorReply(traversal, 'invalid_topic', traversal['ref'] as number);
      // The refused request subscribed nothing, not even its covered topic.
      assert.equal((await postPublish(main.url, { topic: 'user/alice', data: 'not subscribed' }, bearer(KEY_1))).status, 201);
      const ok = await ws.request({ type: 'subscribe', topics: ['user/alice'] });
      assert.equal(ok['type'], 'subscribed');
      assert.equal((await postPublish(main.url, { topic: 'user/alice', data: 'subscribed' }, bearer(KEY_1))).status, 201);
      const [event] = await ws.inbox.waitForEvents(1);
      assert.equal(event!['data'], 'subscribed');
      assert.equal(ws.closeCode, undefined);
    } finally {
      ws.close();
    }
  });

  it('over WebSocket, an anonymous client may upgrade without topics but a private subscribe gets unauthorized with its ref', async () => {
    const ws = await openWs(hubs.main.url, '');
    try {
      const reply = await ws.request({ type: 'subscribe', topics: ['user/alice'] });
      assertErrorReply(reply, 'unauthorized', reply['ref'] as number);
      const pub = await ws.request({ type: 'subscribe', topics: ['news/today'] });
      assert.equal(pub['type'], 'subscribed');
      assert.equal(ws.closeCode, undefined);
    } finally {
      ws.close();
    }
  });
});

describe('token sources', () => {
  const q = (value: string): string => `token=${encodeURIComponent(value)}`;
  const cookie = (name: string, value: string): Record<string, string> => ({ cookie: `theme=dark; ${name}=${encodeURIComponent(value)}; x=1` });
  const bad = (): Promise<string> => signWithText(claimsOf('alice', ALICE, { aud: AUDIENCE, iss: ISSUER }), OTHER_SECRET);

  interface SourceRow {
    name: string;
    hub?: Hubs;
    build: () => Promise<{ query?: string; headers?: Record<string, string> }>;
    expect: 'open' | [number, ErrorCode];
  }
  const SOURCES: SourceRow[] = [
    { name: 'Authorization: Bearer', build: async () => ({ headers: bearer(await alice()) }), expect: 'open' },
    { name: 'the token query parameter', build: async () => ({ query: q(await alice()) }), expect: 'open' },
    { name: 'the herald_token cookie', build: async () => ({ headers: cookie('herald_token', await alice()) }), expect: 'open' },
    { name: 'a bad header token is not rescued by a good query token', build: async () => ({ headers: bearer(await bad()), query: q(await alice()) }), expect: [401, 'unauthorized'] },
    {
      name: 'an expired header token is not rescued by a good query token',
      build: async () => ({ headers: bearer(await token('alice', ALICE, { exp: nowSeconds() - 60 })), query: q(await alice()) }),
      expect: [401, 'token_expired'],
    },
    { name: 'a good header token wins over a bad query token', build: async () => ({ headers: bearer(await alice()), query: q(await bad()) }), expect: 'open' },
    { name: 'a bad query token is not rescued by a good cookie', build: async () => ({ query: q(await bad()), headers: cookie('herald_token', await alice()) }), expect: [401, 'unauthorized'] },
    { name: 'a bad header token is not rescued by a good cookie', build: async () => ({ headers: { ...bearer(await bad()), ...cookie('herald_token', await alice()) } }), expect: [401, 'unauthorized'] },
    { name: 'a custom tokenCookie (sid)', hub: 'cookie', build: async () => ({ headers: cookie('sid', await sign(claimsOf('alice', ALICE))) }), expect: 'open' },
    { name: 'herald_token on a hub whose cookie is sid', hub: 'cookie', build: async () => ({ headers: cookie('herald_token', await sign(claimsOf('alice', ALICE))) }), expect: [401, 'unauthorized'] },
  ];
  for (const row of SOURCES) {
    for (const transport of TRANSPORTS) {
      const label = row.expect === 'open' ? 'opens' : `${row.expect[0]} ${row.expect[1]}`;
      it(`${transport}: ${row.name} -> ${label}`, async () => {
        const { query, headers } = await row.build();
        const running = hubs[row.hub ?? 'main'];
        // As a page of the hub's own origin would: browsers send Origin with every WebSocket upgrade.
        const all = { origin: `http://127.0.0.1:${running.port}`, ...headers };
        const outcome = await attempt(running.url, transport, [Q_ALICE, query].filter(Boolean).join('&'), all);
        if (row.expect === 'open') assertOpened(outcome, transport);
        else assertRefused(outcome, row.expect[0], row.expect[1]);
      });
    }
  }
});

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

describe('publishing', () => {
  const outbox = (data: unknown, topic = 'user/alice/outbox'): { topic: string; type: string; data: unknown } => ({ topic, type: 'note', data });

  const PUBLISH_ROWS: Array<{ name: string; headers: () => Promise<Record<string, string>>; body: unknown; status: number; code?: ErrorCode }> = [
    { name: 'anonymous', headers: async () => ({}), body: outbox(1), status: 401, code: 'unauthorized' },
    { name: 'the first publish key', headers: async () => bearer(KEY_1), body: outbox(1), status: 201 },
    { name: 'the second publish key (rotation)', headers: async () => bearer(KEY_2), body: outbox(1), status: 201 },
    { name: 'a publish key to any topic', headers: async () => bearer(KEY_1), body: outbox(1, 'anything/at/all'), status: 201 },
    { name: 'an unknown key', headers: async () => bearer('publish-key-three-0123456789abcd'), body: outbox(1), status: 401, code: 'unauthorized' },
    { name: 'a key that differs in its last character', headers: async () => bearer(`${KEY_1.slice(0, -1)}0`), body: outbox(1), status: 401, code: 'unauthorized' },
    { name: 'a token whose herald.publish covers the topic', headers: async () => bearer(await alice()), body: outbox(1), status: 201 },
    { name: 'a token whose herald.publish does not cover the topic', headers: async () => bearer(await alice()), body: outbox(1, 'user/bob/outbox'), status: 403, code: 'forbidden' },
    { name: 'a token with subscribe rights only', headers: async () => bearer(await token('alice', { subscribe: ['**'] })), body: outbox(1), status: 403, code: 'forbidden' },
    { name: 'an expired token with publish rights', headers: async () => bearer(await token('alice', ALICE, { exp: nowSeconds() - 60 })), body: outbox(1), status: 401, code: 'token_expired' },
    { name: 'a token with publish rights but a bad signature', headers: async () => bearer(await signWithText(claimsOf('alice', ALICE, { aud: AUDIENCE, iss: ISSUER }), OTHER_SECRET)), body: outbox(1), status: 401, code: 'unauthorized' },
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
      assert.deepEqual(ws.inbox.events.map((e) => e['data']), ['mine']);
      assert.equal(anonymous.inbox.events.length, 0, 'nothing reached news/today');
      assert.equal(ws.closeCode, undefined);
      assert.equal(anonymous.closeCode, undefined);
    } finally {
      ws.close();
      anonymous.close();
    }
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
    const statuses = await Promise.all(Array.from({ length: 6 }, (_, i) => postPublish(url, { topic: 'rate/t', data: i }, bearer(KEY_2)).then((a) => a.status)));
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
      assert.deepEqual(replies.slice(0, 5).map((m) => m['type']), ['published', 'published', 'published', 'published', 'published']);
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
    assert.ok(ws.inbox.control('error').some((m) => m['code'] === 'rate_limited'), JSON.stringify(ws.inbox.control('error')));
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

describe('browser safety', () => {
  /** A WebSocket upgrade from a browser page at `origin`, with extra headers. */
  const fromOrigin = (origin: string | undefined, headers: Record<string, string> = {}): Record<string, string> => ({
    ...(origin === undefined ? {} : { origin }),
    ...headers,
  });
  const cookieOf = async (): Promise<Record<string, string>> => ({ cookie: `herald_token=${await alice()}` });
  const sameOrigin = (running: RunningHub): string => `http://127.0.0.1:${running.port}`;

  interface OriginRow {
    name: string;
    hub: Hubs;
    headers: () => Promise<Record<string, string>>;
    query: string;
    expect: 'open' | [number, ErrorCode];
  }
  const tokenHeader = async (): Promise<Record<string, string>> => bearer(await sign(claimsOf('alice', ALICE)));
  const WS_ORIGIN_ROWS: OriginRow[] = [
    { name: 'allowlist: Origin https://evil.example', hub: 'origin', headers: async () => fromOrigin(EVIL, await tokenHeader()), query: Q_ALICE, expect: [403, 'origin_not_allowed'] },
    { name: 'allowlist: Origin https://evil.example, anonymous on a public topic', hub: 'origin', headers: async () => fromOrigin(EVIL), query: topicQuery('news/a'), expect: [403, 'origin_not_allowed'] },
    { name: 'allowlist: Origin https://app.example', hub: 'origin', headers: async () => fromOrigin(APP, await tokenHeader()), query: Q_ALICE, expect: 'open' },
    { name: 'allowlist: Origin https://app.example.evil.example (no prefix match)', hub: 'origin', headers: async () => fromOrigin('https://app.example.evil.example', await tokenHeader()), query: Q_ALICE, expect: [403, 'origin_not_allowed'] },
    { name: 'allowlist: no Origin (not a browser)', hub: 'origin', headers: tokenHeader, query: Q_ALICE, expect: 'open' },
    { name: 'no allowlist: cookie token from a foreign Origin', hub: 'main', headers: async () => fromOrigin(EVIL, await cookieOf()), query: Q_ALICE, expect: [403, 'origin_not_allowed'] },
    { name: 'no allowlist: cookie token without an Origin', hub: 'main', headers: cookieOf, query: Q_ALICE, expect: [403, 'origin_not_allowed'] },
    { name: 'no allowlist: cookie token from Origin "null"', hub: 'main', headers: async () => fromOrigin('null', await cookieOf()), query: Q_ALICE, expect: [403, 'origin_not_allowed'] },
    { name: 'no allowlist: cookie token from the same origin', hub: 'main', headers: async () => fromOrigin(sameOrigin(hubs.main), await cookieOf()), query: Q_ALICE, expect: 'open' },
    { name: 'no allowlist: header token from a foreign Origin (not ambient)', hub: 'main', headers: async () => fromOrigin(EVIL, bearer(await alice())), query: Q_ALICE, expect: 'open' },
    { name: '* allowlist: any Origin', hub: 'star', headers: async () => fromOrigin(EVIL), query: topicQuery('news/a'), expect: 'open' },
  ];
  for (const row of WS_ORIGIN_ROWS) {
    it(`ws upgrade, ${row.name} -> ${row.expect === 'open' ? 'opens' : `${row.expect[0]} ${row.expect[1]}`}`, async () => {
      const outcome = await attempt(hubs[row.hub].url, 'ws', row.query, await row.headers());
      if (row.expect === 'open') assertOpened(outcome, 'ws');
      else assertRefused(outcome, row.expect[0], row.expect[1]);
    });
  }

  it('CORS: GET /events from an allowed Origin carries ACAO = origin, credentials and Vary: Origin', async () => {
    const outcome = await attempt(hubs.origin.url, 'sse', topicQuery('news/a'), { origin: APP });
    assertOpened(outcome, 'sse');
    assert.equal(outcome.headers['access-control-allow-origin'], APP);
    assert.equal(outcome.headers['access-control-allow-credentials'], 'true');
    assert.match(String(outcome.headers['vary']), /Origin/);
  });

  it('CORS: POST /publish from an allowed Origin carries ACAO = origin and credentials, also on a refusal', async () => {
    const ok = await postPublish(hubs.origin.url, { topic: 'news/a', data: 1 }, { origin: APP, ...bearer(KEY_1) });
    assert.equal(ok.status, 201);
    assert.equal(ok.headers['access-control-allow-origin'], APP);
    assert.equal(ok.headers['access-control-allow-credentials'], 'true');
    const refused = await postPublish(hubs.origin.url, { topic: 'news/a', data: 1 }, { origin: APP });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers['access-control-allow-origin'], APP, 'the page can read why it was refused');
  });

  for (const [name, hub, origin] of [
    ['an unlisted Origin', 'origin', EVIL],
    ['a hub without an allowlist', 'main', APP],
  ] as const) {
    it(`CORS: ${name} gets no CORS headers on GET /events and POST /publish`, async () => {
      const sse = await attempt(hubs[hub].url, 'sse', topicQuery('news/a'), { origin });
      assertOpened(sse, 'sse');
      const published = await postPublish(hubs[hub].url, { topic: 'news/a', data: 1 }, { origin, ...bearer(KEY_1) });
      assert.equal(published.status, 201);
      for (const headers of [sse.headers, published.headers]) {
        assert.equal(headers['access-control-allow-origin'], undefined);
        assert.equal(headers['access-control-allow-credentials'], undefined);
      }
    });
  }

  it('CORS: a preflight from an allowed Origin -> 204 with methods and headers', async () => {
    for (const [path, method] of [
      ['/publish', 'POST'],
      ['/events', 'GET'],
    ] as const) {
      const answer = await httpRequest(hubs.origin.url, 'OPTIONS', path, {
        origin: APP,
        'access-control-request-method': method,
        'access-control-request-headers': 'authorization, content-type',
      });
      assert.equal(answer.status, 204, `${path}: ${answer.text}`);
      assert.equal(answer.headers['access-control-allow-origin'], APP);
      assert.equal(answer.headers['access-control-allow-credentials'], 'true');
      assert.equal(answer.headers['access-control-allow-methods'], method);
      const allowed = String(answer.headers['access-control-allow-headers']).toLowerCase();
      assert.ok(allowed.includes('authorization') && allowed.includes('content-type'), allowed);
    }
  });

  it('CORS: a preflight from an unlisted Origin (or to a hub without an allowlist) -> 403 origin_not_allowed', async () => {
    for (const [hub, origin] of [
      ['origin', EVIL],
      ['main', APP],
    ] as const) {
      const answer = await httpRequest(hubs[hub].url, 'OPTIONS', '/publish', { origin, 'access-control-request-method': 'POST' });
      assert.equal(answer.status, 403, answer.text);
      assert.equal(answer.json.error.code, 'origin_not_allowed');
      assert.equal(answer.headers['access-control-allow-origin'], undefined);
    }
  });

  it('CORS: with * listed, ACAO is * and credentials are never allowed', async () => {
    const sse = await attempt(hubs.star.url, 'sse', topicQuery('news/a'), { origin: EVIL });
    assertOpened(sse, 'sse');
    assert.equal(sse.headers['access-control-allow-origin'], '*');
    assert.equal(sse.headers['access-control-allow-credentials'], undefined);
    const preflight = await httpRequest(hubs.star.url, 'OPTIONS', '/events', { origin: EVIL, 'access-control-request-method': 'GET' });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], '*');
    assert.equal(preflight.headers['access-control-allow-credentials'], undefined);
  });

  describe('POST /publish authenticated by a cookie (CSRF)', () => {
    const publisherCookie = async (): Promise<Record<string, string>> => ({ cookie: `herald_token=${await sign(claimsOf('alice', { publish: ['news/**'] }))}` });
    const CSRF_ROWS: Array<[string, () => Record<string, string>, number, ErrorCode | undefined]> = [
      ['without an Origin', () => ({}), 403, 'origin_not_allowed'],
      ['from a foreign Origin', () => ({ origin: EVIL }), 403, 'origin_not_allowed'],
      ['from Origin "null"', () => ({ origin: 'null' }), 403, 'origin_not_allowed'],
      ['from an allowed Origin', () => ({ origin: APP }), 201, undefined],
      ['from the same origin', () => ({ origin: sameOrigin(hubs.origin) }), 201, undefined],
    ];
    for (const [name, origin, status, code] of CSRF_ROWS) {
      it(`${name} -> ${status}${code === undefined ? '' : ` ${code}`}`, async () => {
        const answer = await postPublish(hubs.origin.url, { topic: 'news/csrf', data: 1 }, { ...(await publisherCookie()), ...origin() });
        assert.equal(answer.status, status, answer.text);
        if (code !== undefined) assert.equal(answer.json.error.code, code);
        else assert.equal(answer.json.ids.length, 1);
      });
    }

    it('a form post (text/plain) with the cookie is refused before anything is published', async () => {
      const answer = await httpRequest(
        hubs.origin.url,
        'POST',
        '/publish',
        { ...(await publisherCookie()), origin: APP, 'content-type': 'text/plain' },
        JSON.stringify({ topic: 'news/csrf', data: 1 }),
      );
      assert.equal(answer.status, 415);
      assert.equal(answer.json.error.code, 'unsupported_media_type');
    });
  });
});

type AuthorizeRequest = Parameters<NonNullable<HubOptions['authorize']>>[0];

describe('authorization hook', () => {
  const GROUPS: HeraldClaim = { subscribe: ['groups/*'] };
  const supervisor = (sub: string, extra: Record<string, unknown> = {}): Promise<string> => sign(claimsOf(sub, GROUPS, extra));
  const calls: AuthorizeRequest[] = [];
  let running: RunningHub;
  let throwing: RunningHub;
  let rejecting: RunningHub;
  let hanging: RunningHub;
  let shortCache: RunningHub;
  let viaUrl: RunningHub;
  let hookServer: TinyServer;
  const posted: Array<{ method: string | undefined; type: string | undefined; body: string }> = [];

  before(async () => {
    running = await startHub({
      jwtSecret: SECRET,
      publicTopics: ['news/**'],
      authorizeCacheTtl: 60_000,
      authorize: (request) => {
        calls.push(request);
        return request.sub === 'sup1' && request.topics.every((topic) => topic === 'groups/7');
      },
    });
    throwing = await startHub({
      jwtSecret: SECRET,
      authorize: () => {
        throw new Error('the database is down');
      },
    });
    rejecting = await startHub({ jwtSecret: SECRET, authorize: () => Promise.reject(new Error('the database is down')) });
    hanging = await startHub({ jwtSecret: SECRET, authorizeTimeout: 200, authorize: () => new Promise<boolean>(() => undefined) });
    shortCache = await startHub({
      jwtSecret: SECRET,
      authorizeCacheTtl: 100,
      authorize: (request) => {
        calls.push(request);
        return true;
      },
    });
    hookServer = await startTinyServer((req, body, res) => {
      posted.push({ method: req.method, type: req.headers['content-type'], body });
      const topic = (JSON.parse(body) as AuthorizeRequest).topics[0];
      if (topic === 'groups/slow') return; // never answers
      if (topic === 'groups/500') {
        res.writeHead(500).end('oops');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(topic === 'groups/garbage' ? 'not json' : JSON.stringify({ allow: topic === 'groups/7' }));
    });
    viaUrl = await startHub({ jwtSecret: SECRET, authorizeUrl: `${hookServer.url}/authorize`, authorizeTimeout: 300, authorizeCacheTtl: 0 });
  });
  after(async () => {
    await Promise.all([running, throwing, rejecting, hanging, shortCache, viaUrl].map((hub) => hub.close()));
    await hookServer.close();
  });

  const HOOK_ROWS: Array<{ name: string; hub: () => RunningHub; sub: string; topics: string[]; expect: 'open' | [number, ErrorCode] }> = [
    { name: 'in-process: a supervisor of group 7 asks for groups/7', hub: () => running, sub: 'sup1', topics: ['groups/7'], expect: 'open' },
    { name: 'in-process: the same supervisor asks for groups/8', hub: () => running, sub: 'sup1', topics: ['groups/8'], expect: [403, 'forbidden'] },
    { name: 'in-process: another supervisor asks for groups/7', hub: () => running, sub: 'sup2', topics: ['groups/7'], expect: [403, 'forbidden'] },
    { name: 'in-process: groups/7 and groups/8 together', hub: () => running, sub: 'sup1', topics: ['groups/7', 'groups/8'], expect: [403, 'forbidden'] },
    { name: 'in-process: a hook that throws (fail closed)', hub: () => throwing, sub: 'sup1', topics: ['groups/7'], expect: [503, 'authorization_unavailable'] },
    { name: 'in-process: a hook that rejects (fail closed)', hub: () => rejecting, sub: 'sup1', topics: ['groups/7'], expect: [503, 'authorization_unavailable'] },
    { name: 'in-process: a hook that never answers, authorizeTimeout 200 (fail closed)', hub: () => hanging, sub: 'sup1', topics: ['groups/7'], expect: [503, 'authorization_unavailable'] },
    { name: 'authorizeUrl: {"allow":true}', hub: () => viaUrl, sub: 'sup1', topics: ['groups/7'], expect: 'open' },
    { name: 'authorizeUrl: {"allow":false}', hub: () => viaUrl, sub: 'sup1', topics: ['groups/8'], expect: [403, 'forbidden'] },
    { name: 'authorizeUrl: no answer within authorizeTimeout 300 (fail closed)', hub: () => viaUrl, sub: 'sup1', topics: ['groups/slow'], expect: [503, 'authorization_unavailable'] },
    { name: 'authorizeUrl: 200 with a body that is not JSON (fail closed)', hub: () => viaUrl, sub: 'sup1', topics: ['groups/garbage'], expect: [503, 'authorization_unavailable'] },
  ];
  for (const row of HOOK_ROWS) {
    for (const transport of TRANSPORTS) {
      it(`${transport}: ${row.name} -> ${row.expect === 'open' ? 'opens' : `${row.expect[0]} ${row.expect[1]}`}`, async () => {
        const outcome = await attempt(row.hub().url, transport, topicQuery(...row.topics), bearer(await supervisor(row.sub)));
        if (row.expect === 'open') assertOpened(outcome, transport);
        else assertRefused(outcome, row.expect[0], row.expect[1]);
      });
    }
  }

  for (const transport of TRANSPORTS) {
    // docs/protocol.md: any status but 200 is a refusal (forbidden), not an outage.
    it(`${transport}: authorizeUrl answering 500 refuses the subscription -> 503 authorization_unavailable (fail closed, retry)`, async () => {
      assertRefused(await attempt(viaUrl.url, transport, topicQuery('groups/500'), bearer(await supervisor('sup1'))), 503, 'authorization_unavailable');
    });
  }

  it('does not cache a failing hook: a 500 is asked again even with caching on', async () => {
    const cached = await startHub({ jwtSecret: SECRET, authorizeUrl: `${hookServer.url}/authorize`, authorizeCacheTtl: 60_000 });
    try {
      const token = bearer(await supervisor('sup1'));
      const asked = posted.length;
      assertRefused(await attempt(cached.url, 'sse', topicQuery('groups/500'), token), 503, 'authorization_unavailable');
      assertRefused(await attempt(cached.url, 'sse', topicQuery('groups/500'), token), 503, 'authorization_unavailable');
      assert.equal(posted.length, asked + 2);
      // A real answer is cached: groups/7 is asked once for two subscriptions.
      const before = posted.length;
      for (let i = 0; i < 2; i++) {
        const stream = await attempt(cached.url, 'sse', topicQuery('groups/7'), token);
        assert.equal(stream.status, 200);
      }
      assert.equal(posted.length, before + 1);
    } finally {
      await cached.close();
    }
  });

  it('the token must still cover the topic: the hook is not asked for topics outside the claim', async () => {
    const before = calls.length;
    assertRefused(await attempt(running.url, 'sse', topicQuery('other/7'), bearer(await supervisor('sup1'))), 403, 'forbidden');
    assert.equal(calls.length, before);
  });

  it('is asked {sub, claims, topics} about the guarded topics only, never about public ones', async () => {
    const jti = 'public-and-guarded';
    assertOpened(await attempt(running.url, 'sse', topicQuery('news/today', 'groups/7'), bearer(await supervisor('sup1', { jti }))), 'sse');
    const mine = calls.filter((call) => call.claims['jti'] === jti);
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.sub, 'sup1');
    assert.equal(mine[0]!.claims['sub'], 'sup1');
    assert.deepEqual(mine[0]!.claims['herald'], GROUPS);
    assert.deepEqual(mine[0]!.topics, ['groups/7']);
    const before = calls.length;
    assertOpened(await attempt(running.url, 'ws', topicQuery('news/today'), bearer(await supervisor('sup1', { jti }))), 'ws');
    assert.equal(calls.length, before, 'a public topic alone does not ask the hook');
  });

  it('caches answers, refusals included, within authorizeCacheTtl', async () => {
    const allowed = await supervisor('sup1', { jti: 'cache-allowed' });
    const refused = await supervisor('sup2', { jti: 'cache-refused' });
    for (const transport of [...TRANSPORTS, ...TRANSPORTS]) {
      assertOpened(await attempt(running.url, transport, topicQuery('groups/7'), bearer(allowed)), transport);
      assertRefused(await attempt(running.url, transport, topicQuery('groups/7'), bearer(refused)), 403, 'forbidden');
    }
    assert.equal(calls.filter((call) => call.claims['jti'] === 'cache-allowed').length, 1);
    assert.equal(calls.filter((call) => call.claims['jti'] === 'cache-refused').length, 1);
  });

  it('asks again once authorizeCacheTtl (100 ms) has passed', async () => {
    const supervisorToken = await supervisor('sup1', { jti: 'short-cache' });
    assertOpened(await attempt(shortCache.url, 'sse', topicQuery('groups/7'), bearer(supervisorToken)), 'sse');
    await sleep(250);
    assertOpened(await attempt(shortCache.url, 'ws', topicQuery('groups/7'), bearer(supervisorToken)), 'ws');
    assert.equal(calls.filter((call) => call.claims['jti'] === 'short-cache').length, 2);
  });

  it('over WebSocket, a subscribe the hook refuses gets forbidden with its ref; an allowed one is subscribed', async () => {
    const ws = await openWs(running.url, '', await supervisor('sup1'));
    try {
      const refused = await ws.request({ type: 'subscribe', topics: ['groups/8'] });
      assertErrorReply(refused, 'forbidden', refused['ref'] as number);
      const ok = await ws.request({ type: 'subscribe', topics: ['groups/7'] });
      assert.equal(ok['type'], 'subscribed');
      assert.equal(ws.closeCode, undefined);
    } finally {
      ws.close();
    }
    const failing = await openWs(throwing.url, '', await supervisor('sup1'));
    try {
      const unavailable = await failing.request({ type: 'subscribe', topics: ['groups/7'] });
      assertErrorReply(unavailable, 'authorization_unavailable', unavailable['ref'] as number);
      assert.equal(failing.closeCode, undefined);
    } finally {
      failing.close();
    }
  });

  it('authorizeUrl gets a JSON POST of exactly {sub, claims, topics}, without the token', async () => {
    const jti = 'posted-body';
    const supervisorToken = await supervisor('sup1', { jti });
    assertOpened(await attempt(viaUrl.url, 'ws', topicQuery('groups/7'), bearer(supervisorToken)), 'ws');
    const request = posted.find((p) => p.body.includes(jti));
    assert.ok(request, 'the hook server was asked');
    assert.equal(request.method, 'POST');
    assert.match(String(request.type), /^application\/json/);
    const body = JSON.parse(request.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['claims', 'sub', 'topics']);
    assert.equal(body['sub'], 'sup1');
    assert.deepEqual(body['topics'], ['groups/7']);
    assert.equal((body['claims'] as Record<string, unknown>)['sub'], 'sup1');
    assert.deepEqual((body['claims'] as Record<string, unknown>)['herald'], GROUPS);
    assert.ok(!request.body.includes(supervisorToken), 'the token itself is not sent');
    assert.ok(!request.body.includes(supervisorToken.split('.')[2]!), 'nor its signature');
  });
});

describe('logs and metrics', () => {
  it('never contain a token or a publish key, on accepted, refused and expired paths, at level trace', async () => {
    const stream = new MemoryStream();
    const running = await startHub({
      jwtSecret: SECRET,
      jwtClockSkew: 0,
      publicTopics: ['news/**'],
      publishKeys: [KEY_1],
      logger: pino({ level: 'trace' }, stream),
    });
    const secrets: string[] = [KEY_1];
    const remember = (value: string): string => {
      secrets.push(value, value.split('.')[2] ?? value);
      return value;
    };
    try {
      const good = remember(await sign(claimsOf('logged', { subscribe: ['log/**'], publish: ['log/**'] })));
      const forged = remember(await signWithText(claimsOf('logged', { subscribe: ['log/**'] }), OTHER_SECRET));
      const expired = remember(await sign(claimsOf('logged', { subscribe: ['log/**'] }, { exp: nowSeconds() - 60 })));
      const other = remember(await sign(claimsOf('logged', { subscribe: ['elsewhere/**'] })));
      // Long enough to open on a loaded machine, short enough to expire during the test.
      const shortLived = remember(await sign(claimsOf('logged', { subscribe: ['log/**'] }, { exp: nowSeconds() + 3 })));
      const refreshed = remember(await sign(claimsOf('logged', { subscribe: ['log/**'] })));
      const stranger = remember(await sign(claimsOf('someone-else', { subscribe: ['log/**'] })));

      // Accepted.
      assertOpened(await attempt(running.url, 'sse', topicQuery('log/a'), bearer(good)), 'sse');
      assertOpened(await attempt(running.url, 'sse', `${topicQuery('log/a')}&token=${good}`), 'sse');
      assertOpened(await attempt(running.url, 'ws', topicQuery('log/a'), { cookie: `herald_token=${good}`, origin: running.url }), 'ws');
      // Refused.
      for (const transport of TRANSPORTS) {
        for (const [bad, status] of [
          [forged, 401],
          [expired, 401],
          [other, 403],
        ] as const) {
          assert.equal((await attempt(running.url, transport, `${topicQuery('log/a')}&token=${bad}`)).status, status);
        }
      }
      // Publishing, allowed and refused.
      assert.equal((await postPublish(running.url, { topic: 'log/a', data: 1 }, bearer(good))).status, 201);
      assert.equal((await postPublish(running.url, { topic: 'log/a', data: 1 }, bearer(KEY_1))).status, 201);
      const refusedPublish = await postPublish(running.url, { topic: 'log/a', data: 1 }, bearer(forged));
      assert.equal(refusedPublish.status, 401);
      // Refresh, accepted and refused, then a connection whose token expires.
      const ws = await openWs(running.url, topicQuery('log/a'), good);
      assert.equal((await ws.request({ type: 'refresh', token: refreshed }))['type'], 'refreshed');
      assert.equal((await ws.request({ type: 'refresh', token: stranger }))['code'], 'forbidden');
      assert.equal((await ws.request({ type: 'refresh', token: forged }))['code'], 'unauthorized');
      ws.close();
      const expiring = await openWs(running.url, topicQuery('log/a'), shortLived);
      assert.equal(await expiring.closed(10_000), 4001);
      // An oversized frame and a garbage frame on a token connection.
      const noisy = await openWs(running.url, topicQuery('log/a'), good);
      noisy.socket.send(`{"type":"refresh","token":"${good}"`);
      await noisy.inbox.waitForControl('error');
      noisy.close();

      const metrics = await (await fetch(`${running.url}/metrics`)).text();
      const bodies = refusedPublish.text;
      await running.close();
      const logs = stream.text;
      assert.match(logs, /SSE subscriber connected/, 'the stream captured the hub log');
      assert.match(logs, /"sub":"logged"/, 'who connected is logged, by subject');
      for (const secret of secrets) {
        assert.ok(!logs.includes(secret), `a token or key appears in the logs: ${secret.slice(0, 12)}...`);
        assert.ok(!metrics.includes(secret), 'a token or key appears in the metrics');
        assert.ok(!bodies.includes(secret), 'a token or key appears in an error body');
      }
    } finally {
      await running.close();
    }
  });
});
