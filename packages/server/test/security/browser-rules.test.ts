import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ErrorCode } from '../../src/index.js';
import { attempt, claimsOf, httpRequest, postPublish, sign, topicQuery } from '../helpers/auth.js';
import type { RunningHub } from '../helpers/hub.js';
import { ALICE, alice, APP, assertOpened, assertRefused, bearer, EVIL, KEY_1, Q_ALICE, useHubs, type Hubs } from './fixture.js';

const hubs = useHubs();

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
    {
      name: 'allowlist: Origin https://evil.example',
      hub: 'origin',
      headers: async () => fromOrigin(EVIL, await tokenHeader()),
      query: Q_ALICE,
      expect: [403, 'origin_not_allowed'],
    },
    {
      name: 'allowlist: Origin https://evil.example, anonymous on a public topic',
      hub: 'origin',
      headers: async () => fromOrigin(EVIL),
      query: topicQuery('news/a'),
      expect: [403, 'origin_not_allowed'],
    },
    { name: 'allowlist: Origin https://app.example', hub: 'origin', headers: async () => fromOrigin(APP, await tokenHeader()), query: Q_ALICE, expect: 'open' },
    {
      name: 'allowlist: Origin https://app.example.evil.example (no prefix match)',
      hub: 'origin',
      headers: async () => fromOrigin('https://app.example.evil.example', await tokenHeader()),
      query: Q_ALICE,
      expect: [403, 'origin_not_allowed'],
    },
    { name: 'allowlist: no Origin (not a browser)', hub: 'origin', headers: tokenHeader, query: Q_ALICE, expect: 'open' },
    {
      name: 'no allowlist: cookie token from a foreign Origin',
      hub: 'main',
      headers: async () => fromOrigin(EVIL, await cookieOf()),
      query: Q_ALICE,
      expect: [403, 'origin_not_allowed'],
    },
    { name: 'no allowlist: cookie token without an Origin', hub: 'main', headers: cookieOf, query: Q_ALICE, expect: [403, 'origin_not_allowed'] },
    {
      name: 'no allowlist: cookie token from Origin "null"',
      hub: 'main',
      headers: async () => fromOrigin('null', await cookieOf()),
      query: Q_ALICE,
      expect: [403, 'origin_not_allowed'],
    },
    {
      name: 'no allowlist: cookie token from the same origin',
      hub: 'main',
      headers: async () => fromOrigin(sameOrigin(hubs.main), await cookieOf()),
      query: Q_ALICE,
      expect: 'open',
    },
    {
      name: 'no allowlist: header token from a foreign Origin (not ambient)',
      hub: 'main',
      headers: async () => fromOrigin(EVIL, bearer(await alice())),
      query: Q_ALICE,
      expect: 'open',
    },
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
    const publisherCookie = async (): Promise<Record<string, string>> => ({
      cookie: `herald_token=${await sign(claimsOf('alice', { publish: ['news/**'] }))}`,
    });
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
