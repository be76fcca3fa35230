import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { claimsOf, SECRET, sign, startTinyServer, type TinyServer } from '../helpers/auth.js';
import { closeSubscribers, sseOpen, WsSubscriber, type Message } from '../helpers/clients.js';
import { sleep, startHub, waitUntil, type RunningHub } from '../helpers/hub.js';

// Issue 12, the grading portal: one token puts its user in `user_{sub}`,
// `role_{role}` and `cadet_{cadet_id}`; `?token=` alone must deliver them.
const PORTAL = { topics: ['user_{sub}', 'role_{role}', 'cadet_{cadet_id}'] };
const portalToken = (sub: string, role: string, cadet: string): Promise<string> =>
  sign(claimsOf(sub, PORTAL, { role, cadet_id: cadet, email: `${sub}@school.example` }));

const topicsOf = (events: readonly Message[]): string[] => events.map((event) => event['topic'] as string);

describe('server-chosen subscriptions from the token (real hub)', () => {
  let running: RunningHub;
  before(async () => {
    running = await startHub({ jwtSecret: SECRET, exposeClaims: ['role', 'cadet_id'] });
  });
  after(() => running.close());
  afterEach(() => closeSubscribers());

  const publishAll = async (topics: string[]): Promise<string[]> => {
    const results = await running.hub.publish(topics.map((topic) => ({ topic, data: { to: topic } })));
    return results.map((result) => result.id);
  };

  it('WebSocket with ?token= alone: subscribed to the token topics, and connected names them and the principal', async () => {
    const ws = await WsSubscriber.open(running.url, `?token=${await portalToken('42', 'teacher', '7')}`);
    const connected = ws.inbox.control('connected')[0]!;
    assert.deepEqual(connected['topics'], ['user_42', 'role_teacher', 'cadet_7']);
    assert.deepEqual(connected['principal'], { sub: '42', claims: { role: 'teacher', cadet_id: '7' } }, 'email is not exposed');
    await publishAll(['user_43', 'user_42', 'role_student', 'role_teacher', 'cadet_7', 'cadet_8']);
    await ws.inbox.waitForEvents(3);
    await sleep(50);
    assert.deepEqual(topicsOf(ws.inbox.events), ['user_42', 'role_teacher', 'cadet_7'], 'only its own groups');
    ws.close();
  });

  it('SSE with ?token= and no topic receives them too', async () => {
    const sse = await sseOpen(running.url, [], { query: { token: await portalToken('50', 'student', '9') } });
    assert.deepEqual(sse.inbox.control('connected')[0]!['topics'], ['user_50', 'role_student', 'cadet_9']);
    await publishAll(['user_51', 'user_50', 'cadet_9']);
    await sse.inbox.waitForEvents(2);
    await sleep(50);
    assert.deepEqual(topicsOf(sse.inbox.events), ['user_50', 'cadet_9']);
  });

  it('explicit topics are added to the server-chosen ones, never replace them; a filter applies to the explicit ones only', async () => {
    const token = await sign(claimsOf('60', { subscribe: ['news/**'], topics: ['user_{sub}'] }));
    const ws = await WsSubscriber.open(running.url, `?topic=news/a&filter=${encodeURIComponent('level > 1')}&token=${token}`);
    assert.deepEqual(ws.inbox.control('connected')[0]!['topics'], ['news/a', 'user_60']);
    await running.hub.publish([
      { topic: 'news/a', data: { level: 1 } },
      { topic: 'user_60', data: { level: 0 } },
      { topic: 'news/a', data: { level: 2 } },
    ]);
    await ws.inbox.waitForEvents(2);
    await sleep(50);
    assert.deepEqual(
      ws.inbox.events.map((event) => [event['topic'], event['data']['level']]),
      [
        ['user_60', 0],
        ['news/a', 2],
      ],
    );
    ws.close();
  });

  it('a client may still leave a server-chosen topic; the rest goes on', async () => {
    const ws = await WsSubscriber.open(running.url, `?token=${await portalToken('70', 'teacher', '1')}`);
    const reply = await ws.request({ type: 'unsubscribe', topics: ['role_teacher'] });
    assert.deepEqual(reply['topics'], ['role_teacher']);
    await publishAll(['role_teacher', 'user_70']);
    await ws.inbox.waitForEvents(1);
    await sleep(50);
    assert.deepEqual(topicsOf(ws.inbox.events), ['user_70']);
    ws.close();
  });

  it('they resume like any other: SSE Last-Event-ID and WebSocket ?since= replay what was missed', async () => {
    const token = await portalToken('80', 'student', '3');
    const first = await sseOpen(running.url, [], { query: { token } });
    const [seen] = await publishAll(['user_80']);
    await first.inbox.waitForEvents(1);
    first.close();
    const missed = await publishAll(['cadet_3', 'user_81', 'role_student']);
    const sse = await sseOpen(running.url, [], { query: { token }, lastEventId: seen! });
    assert.equal(sse.inbox.control('connected')[0]!['resumed'], true);
    await sse.inbox.waitForEvents(2);
    assert.deepEqual(
      sse.inbox.events.map((event) => event['id']),
      [missed[0], missed[2]],
    );
    const ws = await WsSubscriber.open(running.url, `?since=${seen}&token=${token}`);
    await ws.inbox.waitForEvents(2);
    assert.deepEqual(
      ws.inbox.events.map((event) => event['id']),
      [missed[0], missed[2]],
    );
    ws.close();
  });

  it('a claim a template needs but the token lacks drops that topic only (fail closed)', async () => {
    const token = await sign(claimsOf('90', PORTAL, { role: 'a/b' }));
    const ws = await WsSubscriber.open(running.url, `?token=${token}`);
    assert.deepEqual(ws.inbox.control('connected')[0]!['topics'], ['user_90']);
    ws.close();
  });

  it('without a token or topics, SSE is still refused with invalid_request and connected has no principal', async () => {
    const answer = await fetch(`${running.url}/events`);
    assert.equal(answer.status, 400, 'no token and no topic: nothing was asked for');
    const plain = await startHub();
    try {
      const refused = await fetch(`${plain.url}/events`);
      assert.equal(refused.status, 400);
      assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'invalid_request');
      const ws = await WsSubscriber.open(plain.url, '?topic=a');
      const connected = ws.inbox.control('connected')[0]!;
      assert.equal(connected['principal'], undefined);
      assert.deepEqual(connected['topics'], ['a']);
      ws.close();
    } finally {
      await plain.close();
    }
  });
});

describe('server-chosen subscriptions from the authorization hook (real hub, hook over HTTP)', () => {
  let running: RunningHub;
  let hook: TinyServer;
  const supervision = new Map<string, string[]>([['sup1', ['groups/7', 'groups/9', 'elsewhere/1']]]);
  const asked: Array<Record<string, unknown>> = [];

  before(async () => {
    hook = await startTinyServer((_req, body, res) => {
      const request = JSON.parse(body) as { sub: string; topics: string[]; connect?: boolean };
      asked.push(request);
      const groups = supervision.get(request.sub) ?? [];
      const allow = request.topics.every((topic) => groups.includes(topic));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(request.connect === true ? { allow, topics: groups } : { allow }));
    });
    running = await startHub({ jwtSecret: SECRET, authorizeUrl: hook.url, authorizeCacheTtl: 0 });
  });
  after(async () => {
    await running.close();
    await hook.close();
  });
  afterEach(() => closeSubscribers());

  it('subscribes a connection with no topic to the groups the hook names, within the token rights only', async () => {
    const token = await sign(claimsOf('sup1', { subscribe: ['groups/*'] }));
    const ws = await WsSubscriber.open(running.url, `?token=${token}`);
    assert.deepEqual(ws.inbox.control('connected')[0]!['topics'], ['groups/7', 'groups/9'], 'elsewhere/1 is outside the token rights');
    assert.deepEqual(asked.at(-1), { sub: 'sup1', claims: asked.at(-1)!['claims'], topics: [], connect: true });
    await running.hub.publish([
      { topic: 'groups/8', data: 0 },
      { topic: 'groups/9', data: 1 },
      { topic: 'elsewhere/1', data: 2 },
      { topic: 'groups/7', data: 3 },
    ]);
    await ws.inbox.waitForEvents(2);
    await sleep(50);
    assert.deepEqual(topicsOf(ws.inbox.events), ['groups/9', 'groups/7']);
    ws.close();
    const sse = await sseOpen(running.url, [], { query: { token } });
    assert.deepEqual(sse.inbox.control('connected')[0]!['topics'], ['groups/7', 'groups/9']);
  });

  it('a supervisor with no groups connects with none (and SSE, which needs one, is refused)', async () => {
    const token = await sign(claimsOf('nobody', { subscribe: ['groups/*'] }));
    const ws = await WsSubscriber.open(running.url, `?token=${token}`);
    assert.equal(ws.inbox.control('connected')[0]!['topics'], undefined);
    ws.close();
    await waitUntil(() => running.hub.connectionCount === 0, 'the connection to end');
    const refused = await fetch(`${running.url}/events?token=${token}`);
    assert.equal(refused.status, 400);
  });
});
