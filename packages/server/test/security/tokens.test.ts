import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ErrorCode } from '../../src/index.js';
import {
  attempt,
  claimsOf,
  nowSeconds,
  OTHER_SECRET,
  postPublish,
  SECRET,
  sign,
  signWithText,
  topicQuery,
  TRANSPORTS,
  unsignedToken,
  withPayload,
  type HeraldClaim,
} from '../helpers/auth.js';
import {
  ALICE,
  alice,
  assertErrorReply,
  assertOpened,
  assertRefused,
  AUDIENCE,
  bearer,
  EC,
  ED,
  ISSUER,
  KEY_1,
  openWs,
  OTHER_EC,
  OTHER_RSA,
  pem,
  Q_ALICE,
  RSA,
  token,
  useHubs,
  type Hubs,
} from './fixture.js';

const hubs = useHubs();

interface Row {
  name: string;
  hub?: Hubs;
  /** The token, sent as `Authorization: Bearer`; none for an anonymous client. */
  token?: () => Promise<string> | string;
  /** The query (already encoded), without the token. */
  query: string;
  expect: 'open' | [status: number, code: ErrorCode];
}

const ROWS: Row[] = [
  // Signatures and algorithms.
  { name: 'a valid HS256 token for its own topic', token: alice, query: Q_ALICE, expect: 'open' },
  { name: 'a valid token for its own subtree (user/alice/**)', token: alice, query: topicQuery('user/alice/**'), expect: 'open' },
  {
    name: 'alg none with an empty signature',
    token: () => unsignedToken(claimsOf('alice', ALICE, { aud: AUDIENCE, iss: ISSUER })),
    query: Q_ALICE,
    expect: [401, 'unauthorized'],
  },
  {
    name: 'alg none keeping a valid signature',
    token: async () => unsignedToken(claimsOf('alice', ALICE, { aud: AUDIENCE, iss: ISSUER }), { alg: 'none', typ: 'JWT' }, (await alice()).split('.')[2]),
    query: Q_ALICE,
    expect: [401, 'unauthorized'],
  },
  {
    name: 'alg NONE (upper case)',
    token: () => unsignedToken(claimsOf('alice', ALICE, { aud: AUDIENCE, iss: ISSUER }), { alg: 'NONE' }),
    query: Q_ALICE,
    expect: [401, 'unauthorized'],
  },
  {
    name: 'a bad signature (another secret)',
    token: () => signWithText(claimsOf('alice', ALICE, { aud: AUDIENCE, iss: ISSUER }), OTHER_SECRET),
    query: Q_ALICE,
    expect: [401, 'unauthorized'],
  },
  {
    name: "bob's payload under alice's signature",
    token: async () => withPayload(await alice(), claimsOf('bob', ALICE, { aud: AUDIENCE, iss: ISSUER })),
    query: topicQuery('user/bob'),
    expect: [401, 'unauthorized'],
  },
  {
    name: 'HS512 with the right secret (outside the HS256 allowlist)',
    token: () => signWithText(claimsOf('alice', ALICE, { aud: AUDIENCE, iss: ISSUER }), SECRET, 'HS512'),
    query: Q_ALICE,
    expect: [401, 'unauthorized'],
  },
  { name: 'a token that is not a JWT', token: () => 'not-a-jwt', query: Q_ALICE, expect: [401, 'unauthorized'] },
  { name: 'a token over 8192 characters (ignored: anonymous)', token: () => 'x'.repeat(9000), query: Q_ALICE, expect: [401, 'unauthorized'] },
  // Time.
  {
    name: 'expired 60 s ago (beyond the 5 s skew)',
    token: () => token('alice', ALICE, { exp: nowSeconds() - 60 }),
    query: Q_ALICE,
    expect: [401, 'token_expired'],
  },
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
  {
    name: 'herald.subscribe as a string, not an array',
    token: () => token('alice', { subscribe: 'user/alice' } as unknown as HeraldClaim),
    query: Q_ALICE,
    expect: [403, 'forbidden'],
  },
  // Wildcard escalation.
  {
    name: 'claim user/* vs user/1/private',
    token: () => token('x', { subscribe: ['user/*'] }),
    query: topicQuery('user/1/private'),
    expect: [403, 'forbidden'],
  },
  { name: 'claim user/* vs user/1 (covered)', token: () => token('x', { subscribe: ['user/*'] }), query: topicQuery('user/1'), expect: 'open' },
  { name: 'claim user/* vs user/**', token: () => token('x', { subscribe: ['user/*'] }), query: topicQuery('user/**'), expect: [403, 'forbidden'] },
  {
    name: 'claim user/{sub} with sub "*" vs user/*',
    token: () => token('*', { subscribe: ['user/{sub}'] }),
    query: topicQuery('user/*'),
    expect: [403, 'forbidden'],
  },
  {
    name: 'claim user/{sub} with sub "*" vs user/bob (the pattern is dropped)',
    token: () => token('*', { subscribe: ['user/{sub}'] }),
    query: topicQuery('user/bob'),
    expect: [403, 'forbidden'],
  },
  {
    name: 'claim user/{sub} with sub "**" vs user/**',
    token: () => token('**', { subscribe: ['user/{sub}'] }),
    query: topicQuery('user/**'),
    expect: [403, 'forbidden'],
  },
  {
    name: 'claim user/{sub} with sub "a/b" vs user/a/b',
    token: () => token('a/b', { subscribe: ['user/{sub}'] }),
    query: topicQuery('user/a/b'),
    expect: [403, 'forbidden'],
  },
  {
    name: 'claim user/{sub} with sub ".." vs user',
    token: () => token('..', { subscribe: ['user/{sub}'] }),
    query: topicQuery('user'),
    expect: [403, 'forbidden'],
  },
  { name: 'claim user/{sub} vs **', token: alice, query: topicQuery('**'), expect: [403, 'forbidden'] },
  { name: 'claim user/{sub} vs *', token: alice, query: topicQuery('*'), expect: [403, 'forbidden'] },
  { name: 'claim user/{sub} vs user/*', token: alice, query: topicQuery('user/*'), expect: [403, 'forbidden'] },
  { name: 'claim user/{sub} vs */alice', token: alice, query: topicQuery('*/alice'), expect: [403, 'forbidden'] },
  {
    name: 'claim user/{sub}/private vs */alice/private',
    token: () => token('alice', { subscribe: ['user/{sub}/private'] }),
    query: topicQuery('*/alice/private'),
    expect: [403, 'forbidden'],
  },
  {
    name: 'claim user/{sub}/private vs user/*/private',
    token: () => token('alice', { subscribe: ['user/{sub}/private'] }),
    query: topicQuery('user/*/private'),
    expect: [403, 'forbidden'],
  },
  {
    name: 'claim role/{role} with role admin vs role/admin',
    token: () => token('x', { subscribe: ['role/{role}'] }, { role: 'admin' }),
    query: topicQuery('role/admin'),
    expect: 'open',
  },
  {
    name: 'claim role/{role} without a role claim vs role/admin',
    token: () => token('x', { subscribe: ['role/{role}'] }),
    query: topicQuery('role/admin'),
    expect: [403, 'forbidden'],
  },
  {
    name: 'claim role/{role} with role "admin/**" vs role/admin/x',
    token: () => token('x', { subscribe: ['role/{role}'] }, { role: 'admin/**' }),
    query: topicQuery('role/admin/x'),
    expect: [403, 'forbidden'],
  },
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
  {
    name: 'RS256 hub: a valid RS256 token',
    hub: 'rs',
    token: () => sign(claimsOf('alice', ALICE), { alg: 'RS256', key: RSA.privateKey }),
    query: Q_ALICE,
    expect: 'open',
  },
  {
    name: 'RS256 hub: HS256 signed with the RSA public key PEM (key confusion)',
    hub: 'rs',
    token: () => signWithText(claimsOf('alice', ALICE), pem(RSA.publicKey)),
    query: Q_ALICE,
    expect: [401, 'unauthorized'],
  },
  {
    name: 'RS256 hub: RS256 signed by another key',
    hub: 'rs',
    token: () => sign(claimsOf('alice', ALICE), { alg: 'RS256', key: OTHER_RSA.privateKey }),
    query: Q_ALICE,
    expect: [401, 'unauthorized'],
  },
  { name: 'RS256 hub: alg none', hub: 'rs', token: () => unsignedToken(claimsOf('alice', ALICE)), query: Q_ALICE, expect: [401, 'unauthorized'] },
  {
    name: 'RS256 hub: an ES256 token',
    hub: 'rs',
    token: () => sign(claimsOf('alice', ALICE), { alg: 'ES256', key: EC.privateKey }),
    query: Q_ALICE,
    expect: [401, 'unauthorized'],
  },
  {
    name: 'RS256 hub: a valid token for another topic',
    hub: 'rs',
    token: () => sign(claimsOf('alice', ALICE), { alg: 'RS256', key: RSA.privateKey }),
    query: topicQuery('user/bob'),
    expect: [403, 'forbidden'],
  },
  {
    name: 'ES256 hub: a valid ES256 token',
    hub: 'es',
    token: () => sign(claimsOf('alice', ALICE), { alg: 'ES256', key: EC.privateKey }),
    query: Q_ALICE,
    expect: 'open',
  },
  {
    name: 'ES256 hub: HS256 signed with the EC public key PEM',
    hub: 'es',
    token: () => signWithText(claimsOf('alice', ALICE), pem(EC.publicKey)),
    query: Q_ALICE,
    expect: [401, 'unauthorized'],
  },
  {
    name: 'ES256 hub: ES256 signed by another key',
    hub: 'es',
    token: () => sign(claimsOf('alice', ALICE), { alg: 'ES256', key: OTHER_EC.privateKey }),
    query: Q_ALICE,
    expect: [401, 'unauthorized'],
  },
  {
    name: 'EdDSA hub: a valid EdDSA token',
    hub: 'ed',
    token: () => sign(claimsOf('alice', ALICE), { alg: 'EdDSA', key: ED.privateKey }),
    query: Q_ALICE,
    expect: 'open',
  },
  {
    name: 'EdDSA hub: HS256 signed with the Ed25519 public key PEM',
    hub: 'ed',
    token: () => signWithText(claimsOf('alice', ALICE), pem(ED.publicKey)),
    query: Q_ALICE,
    expect: [401, 'unauthorized'],
  },
  {
    name: 'EdDSA hub: an RS256 token',
    hub: 'ed',
    token: () => sign(claimsOf('alice', ALICE), { alg: 'RS256', key: RSA.privateKey }),
    query: Q_ALICE,
    expect: [401, 'unauthorized'],
  },
  {
    name: 'EdDSA hub: an expired EdDSA token',
    hub: 'ed',
    token: () => sign(claimsOf('alice', ALICE, { exp: nowSeconds() - 60 }), { alg: 'EdDSA', key: ED.privateKey }),
    query: Q_ALICE,
    expect: [401, 'token_expired'],
  },
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
    {
      name: 'a bad header token is not rescued by a good query token',
      build: async () => ({ headers: bearer(await bad()), query: q(await alice()) }),
      expect: [401, 'unauthorized'],
    },
    {
      name: 'an expired header token is not rescued by a good query token',
      build: async () => ({ headers: bearer(await token('alice', ALICE, { exp: nowSeconds() - 60 })), query: q(await alice()) }),
      expect: [401, 'token_expired'],
    },
    { name: 'a good header token wins over a bad query token', build: async () => ({ headers: bearer(await alice()), query: q(await bad()) }), expect: 'open' },
    {
      name: 'a bad query token is not rescued by a good cookie',
      build: async () => ({ query: q(await bad()), headers: cookie('herald_token', await alice()) }),
      expect: [401, 'unauthorized'],
    },
    {
      name: 'a bad header token is not rescued by a good cookie',
      build: async () => ({ headers: { ...bearer(await bad()), ...cookie('herald_token', await alice()) } }),
      expect: [401, 'unauthorized'],
    },
    {
      name: 'a custom tokenCookie (sid)',
      hub: 'cookie',
      build: async () => ({ headers: cookie('sid', await sign(claimsOf('alice', ALICE))) }),
      expect: 'open',
    },
    {
      name: 'herald_token on a hub whose cookie is sid',
      hub: 'cookie',
      build: async () => ({ headers: cookie('herald_token', await sign(claimsOf('alice', ALICE))) }),
      expect: [401, 'unauthorized'],
    },
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
