import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ErrorCode, HubOptions } from '../../src/index.js';
import { attempt, claimsOf, SECRET, sign, startTinyServer, topicQuery, TRANSPORTS, type HeraldClaim, type TinyServer } from '../helpers/auth.js';
import { sleep, startHub, type RunningHub } from '../helpers/hub.js';
import { assertErrorReply, assertOpened, assertRefused, bearer, openWs } from './fixture.js';

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
    {
      name: 'in-process: a hook that throws (fail closed)',
      hub: () => throwing,
      sub: 'sup1',
      topics: ['groups/7'],
      expect: [503, 'authorization_unavailable'],
    },
    {
      name: 'in-process: a hook that rejects (fail closed)',
      hub: () => rejecting,
      sub: 'sup1',
      topics: ['groups/7'],
      expect: [503, 'authorization_unavailable'],
    },
    {
      name: 'in-process: a hook that never answers, authorizeTimeout 200 (fail closed)',
      hub: () => hanging,
      sub: 'sup1',
      topics: ['groups/7'],
      expect: [503, 'authorization_unavailable'],
    },
    { name: 'authorizeUrl: {"allow":true}', hub: () => viaUrl, sub: 'sup1', topics: ['groups/7'], expect: 'open' },
    { name: 'authorizeUrl: {"allow":false}', hub: () => viaUrl, sub: 'sup1', topics: ['groups/8'], expect: [403, 'forbidden'] },
    {
      name: 'authorizeUrl: no answer within authorizeTimeout 300 (fail closed)',
      hub: () => viaUrl,
      sub: 'sup1',
      topics: ['groups/slow'],
      expect: [503, 'authorization_unavailable'],
    },
    {
      name: 'authorizeUrl: 200 with a body that is not JSON (fail closed)',
      hub: () => viaUrl,
      sub: 'sup1',
      topics: ['groups/garbage'],
      expect: [503, 'authorization_unavailable'],
    },
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
    assert.equal(mine[0]!.connect, true, 'asked as the connection opens');
    // Issue 12: the hook is asked at every connect, where it may name topics; with a
    // public topic alone it is asked about no topic (before, it was not asked at all).
    const publicOnly = 'public-only';
    assertOpened(await attempt(running.url, 'ws', topicQuery('news/today'), bearer(await supervisor('sup1', { jti: publicOnly }))), 'ws');
    const asked = calls.filter((call) => call.claims['jti'] === publicOnly);
    assert.deepEqual(
      asked.map((call) => call.topics),
      [[]],
      'never about the public topic',
    );
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

  it('authorizeUrl gets a JSON POST of exactly {sub, claims, topics, connect} at connect, without the token', async () => {
    const jti = 'posted-body';
    const supervisorToken = await supervisor('sup1', { jti });
    assertOpened(await attempt(viaUrl.url, 'ws', topicQuery('groups/7'), bearer(supervisorToken)), 'ws');
    const request = posted.find((p) => p.body.includes(jti));
    assert.ok(request, 'the hook server was asked');
    assert.equal(request.method, 'POST');
    assert.match(String(request.type), /^application\/json/);
    const body = JSON.parse(request.body) as Record<string, unknown>;
    // `connect: true` since issue 12: asked as the connection opens, the hook may name topics.
    assert.deepEqual(Object.keys(body).sort(), ['claims', 'connect', 'sub', 'topics']);
    assert.equal(body['connect'], true);
    assert.equal(body['sub'], 'sup1');
    assert.deepEqual(body['topics'], ['groups/7']);
    assert.equal((body['claims'] as Record<string, unknown>)['sub'], 'sup1');
    assert.deepEqual((body['claims'] as Record<string, unknown>)['herald'], GROUPS);
    assert.ok(!request.body.includes(supervisorToken), 'the token itself is not sent');
    assert.ok(!request.body.includes(supervisorToken.split('.')[2]!), 'nor its signature');
  });
});
