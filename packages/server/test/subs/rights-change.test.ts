import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { claimsOf, SECRET, sign, startTinyServer, type TinyServer } from '../helpers/auth.js';
import { closeSubscribers, sseOpen, WsSubscriber, type Inbox, type Message } from '../helpers/clients.js';
import { sleep, startHub, waitUntil, type RunningHub } from '../helpers/hub.js';

// Issue 12, the check-in rooms: revoking a supervision must end that group's
// subscription on open connections, and only that one.
const topicsOf = (events: readonly Message[]): string[] => events.map((event) => event['topic'] as string);
const revocations = (inbox: Inbox): Message[] => inbox.control('unsubscribed').filter((m) => m['ref'] === undefined);

describe('rights that change: live subscriptions re-checked against the hook (real hub, hook over HTTP)', () => {
  let running: RunningHub;
  let noRecheck: RunningHub;
  let hook: TinyServer;
  // The app's database: which groups each supervisor supervises now.
  const supervision = new Map<string, string[]>();
  let hookDown = false;
  const supervisor = (sub: string): Promise<string> => sign(claimsOf(sub, { subscribe: ['groups/*'] }));

  before(async () => {
    hook = await startTinyServer((_req, body, res) => {
      if (hookDown) return void res.writeHead(500).end();
      const request = JSON.parse(body) as { sub: string; topics: string[]; connect?: boolean };
      const groups = supervision.get(request.sub) ?? [];
      const allow = request.topics.every((topic) => groups.includes(topic));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(request.connect === true ? { allow, topics: groups } : { allow }));
    });
    const common = { jwtSecret: SECRET, authorizeUrl: hook.url, authorizeCacheTtl: 0 };
    running = await startHub({ ...common, reauthorizeInterval: 300 });
    noRecheck = await startHub(common);
  });
  after(async () => {
    await Promise.all([running.close(), noRecheck.close()]);
    await hook.close();
  });
  afterEach(() => {
    closeSubscribers();
    hookDown = false;
  });

  it('WebSocket: a revoked supervision ends that group only, with unsubscribed; the connection goes on', async () => {
    supervision.set('sup-ws', ['groups/7', 'groups/9']);
    const ws = await WsSubscriber.open(running.url, `?token=${await supervisor('sup-ws')}`);
    assert.deepEqual(ws.inbox.control('connected')[0]!['topics'], ['groups/7', 'groups/9']);
    supervision.set('sup-ws', ['groups/7']);
    await waitUntil(() => revocations(ws.inbox).length > 0, 'the revocation', 5000);
    assert.deepEqual(revocations(ws.inbox), [{ type: 'unsubscribed', topics: ['groups/9'], reason: 'forbidden' }]);
    await running.hub.publish([
      { topic: 'groups/9', data: 1 },
      { topic: 'groups/7', data: 2 },
    ]);
    await ws.inbox.waitForEvents(1);
    assert.equal((await ws.request({ type: 'ping' }))['type'], 'pong', 'the connection is still open');
    assert.deepEqual(topicsOf(ws.inbox.events), ['groups/7']);
    assert.equal(ws.closeCode, undefined);
    // Later re-checks find nothing more to end.
    await sleep(1500);
    assert.equal(revocations(ws.inbox).length, 1);
    ws.close();
  });

  it('SSE: the same, as a data frame, for topics the client named', async () => {
    supervision.set('sup-sse', ['groups/1', 'groups/2']);
    const sse = await sseOpen(running.url, ['groups/1', 'groups/2'], { query: { token: await supervisor('sup-sse') } });
    supervision.set('sup-sse', ['groups/2']);
    await waitUntil(() => revocations(sse.inbox).length > 0, 'the revocation', 5000);
    assert.deepEqual(revocations(sse.inbox)[0]!['topics'], ['groups/1']);
    await running.hub.publish([
      { topic: 'groups/1', data: 1 },
      { topic: 'groups/2', data: 2 },
    ]);
    await sse.inbox.waitForEvents(1);
    await sleep(50);
    assert.deepEqual(topicsOf(sse.inbox.events), ['groups/2']);
  });

  it('a hook that does not answer a re-check ends nothing', async () => {
    supervision.set('sup-down', ['groups/3']);
    const ws = await WsSubscriber.open(running.url, `?token=${await supervisor('sup-down')}`);
    hookDown = true;
    await sleep(1500);
    hookDown = false;
    assert.deepEqual(revocations(ws.inbox), []);
    await running.hub.publish({ topic: 'groups/3', data: 1 });
    await ws.inbox.waitForEvents(1);
    ws.close();
  });

  it('on refresh, only the topics the hook now refuses end', async () => {
    supervision.set('sup-refresh', ['groups/4', 'groups/5', 'groups/6']);
    const ws = await WsSubscriber.open(noRecheck.url, `?token=${await supervisor('sup-refresh')}`);
    supervision.set('sup-refresh', ['groups/4', 'groups/6']);
    const reply = await ws.request({ type: 'refresh', token: await supervisor('sup-refresh') });
    assert.equal(reply['type'], 'refreshed');
    assert.deepEqual(revocations(ws.inbox), [{ type: 'unsubscribed', topics: ['groups/5'], reason: 'forbidden' }]);
    ws.close();
  });

  it('without reauthorizeInterval (the default) nothing is re-checked', async () => {
    supervision.set('sup-off', ['groups/8']);
    const ws = await WsSubscriber.open(noRecheck.url, `?token=${await supervisor('sup-off')}`);
    supervision.set('sup-off', []);
    await sleep(1500);
    assert.deepEqual(revocations(ws.inbox), []);
    ws.close();
  });
});
