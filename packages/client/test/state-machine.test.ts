import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClient, type ClientOptions, type ConnectionState, type HeraldError, type HeraldEvent } from '../src/index.js';
import { FakeClock, FakeTransports, flush } from './fakes.js';

function setup(options: Partial<ClientOptions> = {}) {
  const clock = new FakeClock();
  const transports = new FakeTransports();
  let online: (() => void) | undefined;
  let random = 0.5;
  const client = createClient({
    url: 'http://hub.test',
    transport: 'websocket',
    transports: transports.both,
    clock,
    random: () => random,
    onOnline: (listener) => {
      online = listener;
      return () => {
        online = undefined;
      };
    },
    ...options,
  });
  const states: ConnectionState[] = [];
  const errors: HeraldError[] = [];
  client.on('state', (state) => states.push(state));
  client.on('error', (error) => errors.push(error));
  return {
    client,
    clock,
    transports,
    states,
    errors,
    goOnline: () => online?.(),
    setRandom: (value: number) => {
      random = value;
    },
  };
}

describe('client state machine', () => {
  it('stays idle until something is subscribed, then connects', async () => {
    const t = setup();
    await flush();
    assert.equal(t.client.state, 'idle');
    assert.equal(t.transports.attempts.length, 0);
    t.client.subscribe('news', { onEvent: () => undefined });
    await flush();
    assert.equal(t.client.state, 'connecting');
    t.transports.last.connected();
    assert.deepEqual(t.states, ['connecting', 'connected']);
  });

  it('goes reconnecting on a loss, waits a jittered delay, and resumes every topic in one request', async () => {
    const t = setup();
    const seen: string[] = [];
    t.client.subscribe('news', { onEvent: (e) => seen.push(e.id) });
    t.client.subscribe(['scores/*', 'news'], { onEvent: (e) => seen.push(e.id) });
    await flush();
    const first = t.transports.last;
    first.connected();
    first.acknowledge();
    first.event('e1', 'news');
    first.end({ reason: 'network' });
    assert.equal(t.client.state, 'reconnecting');
    // random 0.5 of a 1000 ms ceiling
    assert.deepEqual(t.clock.pending, [500]);
    t.clock.advance(499);
    await flush();
    assert.equal(t.transports.attempts.length, 1);
    t.clock.advance(1);
    await flush();
    const second = t.transports.last;
    assert.notEqual(second, first);
    second.connected();
    const subscribes = second.sent.filter((m) => m['type'] === 'subscribe');
    assert.equal(subscribes.length, 1);
    assert.deepEqual(subscribes[0]!['topics'], ['news', 'scores/*']);
    assert.equal(subscribes[0]!['since'], 'e1');
    assert.deepEqual(t.states, ['connecting', 'connected', 'reconnecting', 'connected']);
    assert.deepEqual(seen, ['e1', 'e1']);
  });

  it('resumes from the position in connected when a drop came before any event, with no reset', async () => {
    for (const transport of ['websocket', 'sse'] as const) {
      const t = setup({ transport });
      const resets: string[] = [];
      t.client.subscribe(['a', 'b/*'], { onEvent: () => undefined, onReset: (r) => resets.push(`${r.topic}:${r.reason}`) });
      await flush();
      t.transports.last.connected(1000, 'ffff000000-0');
      t.transports.last.acknowledge();
      assert.equal(t.client.lastEventId, 'ffff000000-0', transport);
      t.transports.last.end();
      t.clock.advance(1000);
      await flush();
      const second = t.transports.last;
      if (transport === 'sse') assert.equal(second.request.since, 'ffff000000-0');
      // A fresh WebSocket names a newer position in connected: the client keeps its own.
      second.connected(1000, 'ffff000000-7', transport === 'sse');
      second.acknowledge();
      if (transport === 'websocket')
        assert.deepEqual(
          second.sent.filter((m) => m['type'] === 'subscribe').map((m) => m['since']),
          ['ffff000000-0'],
        );
      assert.equal(t.client.lastEventId, 'ffff000000-0', transport);
      assert.deepEqual(resets, [], transport);
    }
  });

  it('does not take the position of an SSE connected that may be followed by resets', async () => {
    const t = setup({ transport: 'sse' });
    t.client.subscribe('a', { onEvent: () => undefined, since: 'gone-1' });
    await flush();
    assert.equal(t.transports.last.request.since, 'gone-1');
    t.transports.last.connected(1000, 'ffff000000-3', false);
    assert.equal(t.client.lastEventId, undefined, 'a drop before the reset must bring the reset again');
  });

  it('tells held subscriptions to reload when a drop came before any event and the hub named no position', async () => {
    for (const transport of ['websocket', 'sse'] as const) {
      const t = setup({ transport });
      const resets: string[] = [];
      let confirmations = 0;
      t.client.subscribe(['a', 'b/*'], {
        onEvent: () => undefined,
        onReset: (r) => resets.push(`${r.topic}:${r.reason}`),
        onSubscribed: () => confirmations++,
      });
      await flush();
      t.transports.last.connected();
      t.transports.last.acknowledge();
      t.transports.last.end();
      t.clock.advance(1000);
      await flush();
      t.transports.last.connected();
      t.transports.last.acknowledge();
      assert.equal(confirmations, 2, transport);
      assert.deepEqual(resets, ['a:no_position', 'b/*:no_position'], transport);
      // With a position, the next drop resumes instead.
      t.transports.last.event('e1', 'a');
      t.transports.last.end();
      t.clock.advance(1000);
      await flush();
      t.transports.last.connected();
      t.transports.last.acknowledge();
      assert.equal(resets.length, 2, transport);
    }
  });

  it('backs off exponentially with full jitter up to the cap, and resets after connecting', async () => {
    const t = setup({ backoff: { initial: 100, factor: 3, cap: 2000 } });
    t.setRandom(0.999);
    t.client.subscribe('news', { onEvent: () => undefined });
    await flush();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      t.transports.last.end({ opened: false });
      delays.push(t.clock.pending[0]!);
      t.clock.advance(delays[delays.length - 1]!);
      await flush();
    }
    // ceilings 100, 300, 900, 2000 (cap), 2000, 2000; random 0.999 takes just under each
    assert.deepEqual(delays, [99, 299, 899, 1998, 1998, 1998]);
    t.transports.last.connected();
    t.transports.last.end();
    assert.deepEqual(
      t.clock.pending.filter((d) => d < 1000),
      [99],
    );
  });

  it('keeps every delay within [0, ceiling) for random values at both ends', async () => {
    for (const [random, expected] of [
      [0, 0],
      [0.9999999, 999],
    ] as const) {
      const t = setup();
      t.setRandom(random);
      t.client.subscribe('news', { onEvent: () => undefined });
      await flush();
      t.transports.last.end({ opened: false });
      assert.deepEqual(t.clock.pending, [expected]);
    }
  });

  // maxAttempts counts retries after the first failure (it used to count the first attempt too).
  it('becomes failed when the first attempt and maxAttempts retries have failed, with no timer left', async () => {
    const t = setup({ maxAttempts: 2 });
    t.client.subscribe('news', { onEvent: () => undefined });
    await flush();
    for (let i = 0; i < 2; i++) {
      t.transports.last.end({ opened: false });
      assert.equal(t.client.state, 'reconnecting');
      t.clock.advance(10_000);
      await flush();
    }
    t.transports.last.end({ opened: false, reason: 'refused' });
    assert.equal(t.client.state, 'failed');
    assert.equal(t.errors.length, 1);
    assert.equal(t.transports.attempts.length, 3);
    // Only the connect-timeout timers of finished attempts could remain; none may.
    assert.deepEqual(t.clock.pending, []);
    t.clock.advance(60_000);
    await flush();
    assert.equal(t.transports.attempts.length, 3);
  });

  it('retries at once when the browser comes back online, from reconnecting or failed', async () => {
    const t = setup({ maxAttempts: 1, backoff: { initial: 60_000 } });
    t.client.subscribe('news', { onEvent: () => undefined });
    await flush();
    t.transports.last.end({ opened: false });
    assert.equal(t.client.state, 'reconnecting');
    t.goOnline();
    await flush();
    assert.equal(t.transports.attempts.length, 2, 'online skips the backoff wait');
    // Without the reset of the failure count by online, this second failure would reach maxAttempts.
    t.transports.last.end({ opened: false });
    assert.equal(t.client.state, 'reconnecting', 'online reset the failure count');
    t.transports.last.end({ opened: false });
    t.clock.advance(60_000);
    await flush();
    t.transports.last.end({ opened: false });
    assert.equal(t.client.state, 'failed');
    t.goOnline();
    await flush();
    assert.equal(t.client.state, 'reconnecting');
    t.transports.last.connected();
    assert.equal(t.client.state, 'connected');
  });

  it('ignores every callback of a connection it has replaced (generation fencing)', async () => {
    const t = setup();
    const seen: string[] = [];
    const resets: string[] = [];
    t.client.subscribe('news', { onEvent: (e) => seen.push(e.id), onReset: (r) => resets.push(r.reason) });
    await flush();
    const old = t.transports.last;
    old.connected();
    old.acknowledge();
    t.client.reconnect();
    await flush();
    assert.equal(old.closed, true);
    const current = t.transports.last;
    current.connected();
    // The old socket's late messages and its close must change nothing.
    old.event('late-1');
    old.message({ type: 'reset', topic: 'news', reason: 'expired' });
    old.message({ type: 'error', code: 'shutting_down', message: 'x', retryAfter: 5 });
    old.end({ closeCode: 1006 });
    assert.deepEqual(seen, []);
    assert.deepEqual(resets, []);
    assert.equal(t.client.state, 'connected');
    current.event('e1');
    assert.deepEqual(seen, ['e1']);
  });

  it('treats a connection silent for about two heartbeats as dead', async () => {
    const t = setup();
    t.client.subscribe('news', { onEvent: () => undefined });
    await flush();
    const connection = t.transports.last;
    connection.connected(1000);
    // Messages keep it alive, however long it runs.
    for (let i = 0; i < 10; i++) {
      t.clock.advance(1000);
      connection.message({ type: 'heartbeat' });
    }
    assert.equal(t.client.state, 'connected');
    t.clock.advance(2249);
    assert.equal(t.client.state, 'connected');
    t.clock.advance(1);
    assert.equal(t.client.state, 'reconnecting');
    assert.equal(connection.closed, true);
  });

  it('fails an attempt that gets no connected within connectTimeout', async () => {
    const t = setup({ connectTimeout: 3000 });
    t.client.subscribe('news', { onEvent: () => undefined });
    await flush();
    t.clock.advance(3000);
    assert.equal(t.client.state, 'reconnecting');
    assert.equal(t.transports.last.closed, true);
  });

  it('waits exactly the retryAfter of a shutting_down goodbye', async () => {
    const t = setup();
    t.client.subscribe('news', { onEvent: () => undefined });
    await flush();
    t.transports.last.connected();
    t.transports.last.message({ type: 'error', code: 'shutting_down', message: 'bye', retryAfter: 1234 });
    t.transports.last.end({ closeCode: 1012 });
    assert.deepEqual(t.clock.pending, [1234]);
  });

  it('reconnects at once with a fresh token after token_expired, resuming from the last id', async () => {
    let calls = 0;
    const t = setup({ getToken: async () => `token-${++calls}` });
    t.client.subscribe('news', { onEvent: () => undefined });
    await flush();
    assert.equal(t.transports.last.request.token, 'token-1');
    t.transports.last.connected();
    t.transports.last.event('e9');
    t.transports.last.message({ type: 'error', code: 'token_expired', message: 'expired' });
    t.transports.last.end({ closeCode: 4001 });
    assert.deepEqual(t.clock.pending, [0]);
    t.clock.advance(0);
    await flush();
    assert.equal(t.transports.last.request.token, 'token-2');
    t.transports.last.connected();
    assert.equal(t.transports.last.sent[0]!['since'], 'e9');
  });

  it('refreshes a JWT over WebSocket before it expires, without reconnecting', async () => {
    // An unsigned JWT is enough: the client only reads exp to time the refresh.
    const jwt = (exp: number): string => `e30.${Buffer.from(JSON.stringify({ sub: 'a', exp })).toString('base64url')}.sig`;
    const expiries = [1120, 1240, 1240];
    const t = setup({ getToken: () => jwt(expiries.shift() ?? 0) });
    t.client.subscribe('news', { onEvent: () => undefined });
    await flush();
    const c = t.transports.last;
    c.connected(100_000);
    // The token (clock at 1,000 s) has 120 s left: refresh a minute early.
    t.clock.advance(59_999);
    await flush();
    assert.equal(c.sent.filter((m) => m['type'] === 'refresh').length, 0);
    t.clock.advance(1);
    await flush();
    const refresh = c.sent.find((m) => m['type'] === 'refresh')!;
    assert.equal(refresh['token'], jwt(1240));
    c.message({ type: 'refreshed', expiresAt: 1_240_000, ref: refresh['ref'] });
    // Next refresh: 180 s left at 1,060 s, so after 120 s; a token that lives no longer stops the cycle.
    t.clock.advance(120_000);
    await flush();
    const second = c.sent.filter((m) => m['type'] === 'refresh')[1]!;
    c.message({ type: 'refreshed', expiresAt: 1_240_000, ref: second['ref'] });
    await flush();
    assert.equal(t.transports.attempts.length, 1);
    assert.equal(t.client.state, 'connected');
    assert.ok(
      t.clock.pending.every((d) => d !== 0),
      'no refresh loop',
    );
  });

  it('tells subscriptions when a refreshed token no longer covers their topics', async () => {
    const t = setup();
    const errors: string[] = [];
    t.client.subscribe('private/x', { onEvent: () => undefined, onError: (e) => errors.push(e.code) });
    await flush();
    t.transports.last.connected();
    t.transports.last.message({ type: 'unsubscribed', topics: ['private/x'], reason: 'forbidden' });
    assert.deepEqual(errors, ['forbidden']);
  });

  it('gives up on a refused token when there is no getToken to fetch another', async () => {
    const t = setup({ transport: 'sse', token: 'static' });
    t.client.subscribe('news', { onEvent: () => undefined });
    await flush();
    t.transports.last.end({ opened: false, status: 401, code: 'token_expired' });
    assert.equal(t.client.state, 'failed');
    assert.equal(t.errors[0]!.code, 'token_expired');
  });

  it('gives up on a 403 forbidden over SSE, and starts again on reconnect()', async () => {
    const t = setup({ transport: 'sse' });
    t.client.subscribe('secret', { onEvent: () => undefined });
    await flush();
    t.transports.last.end({ opened: false, status: 403, code: 'forbidden' });
    assert.equal(t.client.state, 'failed');
    assert.equal(t.errors[0]!.code, 'forbidden');
    t.client.reconnect();
    await flush();
    assert.equal(t.client.state, 'connecting');
    assert.equal(t.transports.attempts.length, 2);
  });

  it('auto: falls back to SSE at once when WebSocket cannot connect, resumes there, and tries WebSocket again later', async () => {
    const t = setup({ transport: 'auto', websocketRetryDelay: 60_000 });
    const seen: string[] = [];
    t.client.subscribe('news', { onEvent: (e) => seen.push(e.id) });
    await flush();
    const ws = t.transports.last;
    assert.equal(ws.kind, 'websocket');
    ws.connected();
    ws.acknowledge();
    ws.event('e1');
    ws.end({ closeCode: 1006 });
    t.clock.advance(10_000);
    await flush();
    t.transports.last.end({ opened: false, closeCode: 1006 });
    await flush();
    const sse = t.transports.last;
    assert.equal(sse.kind, 'sse');
    assert.deepEqual(sse.request.topics, ['news']);
    assert.equal(sse.request.since, 'e1');
    sse.connected();
    sse.event('e1');
    sse.event('e2');
    assert.deepEqual(seen, ['e1', 'e2'], 'the replayed duplicate e1 is dropped');
    for (let i = 0; i < 60; i++) {
      assert.equal(t.transports.last, sse, 'SSE stays until websocketRetryDelay has passed');
      t.clock.advance(1000);
      sse.message({ type: 'heartbeat' });
      await flush();
    }
    assert.equal(sse.closed, true);
    assert.equal(t.transports.last.kind, 'websocket');
    t.transports.last.connected();
    assert.equal(t.transports.last.sent[0]!['since'], 'e2');
    assert.deepEqual(t.states, ['connecting', 'connected', 'reconnecting', 'connected', 'connecting', 'connected']);
  });

  it('auto: when SSE fails too, backs off and starts again from WebSocket', async () => {
    const t = setup({ transport: 'auto' });
    t.client.subscribe('news', { onEvent: () => undefined });
    await flush();
    t.transports.last.end({ opened: false });
    await flush();
    assert.equal(t.transports.last.kind, 'sse');
    t.transports.last.end({ opened: false });
    assert.equal(t.client.state, 'reconnecting');
    t.clock.advance(10_000);
    await flush();
    assert.equal(t.transports.last.kind, 'websocket');
  });

  it('sends nothing for a subscribe, unsubscribe and subscribe in one tick (StrictMode double mount)', async () => {
    const t = setup();
    t.client.subscribe('news', { onEvent: () => undefined });
    await flush();
    t.transports.last.connected();
    t.transports.last.acknowledge();
    const before = t.transports.last.sent.length;
    const stop = t.client.subscribe('scores', { onEvent: () => undefined });
    stop();
    stop();
    await flush();
    assert.equal(t.transports.last.sent.length, before);
    const stopNews = t.client.subscribe('news', { onEvent: () => undefined });
    await flush();
    assert.deepEqual(
      t.transports.last.sent.slice(before).map((m) => [m['type'], m['topics']]),
      [['subscribe', ['news']]],
    );
    stopNews();
    await flush();
    assert.equal(t.transports.last.sent.length, before + 1, 'news is still held by the first subscription');
  });

  it('unsubscribes patterns no subscription holds any more', async () => {
    const t = setup();
    const stop = t.client.subscribe(['a', 'b'], { onEvent: () => undefined });
    t.client.subscribe('b', { onEvent: () => undefined });
    await flush();
    t.transports.last.connected();
    stop();
    await flush();
    assert.deepEqual(t.transports.last.sent.at(-1), { type: 'unsubscribe', topics: ['a'] });
  });

  it('over SSE opens a new stream, resuming, when the topics change', async () => {
    const t = setup({ transport: 'sse' });
    t.client.subscribe('a', { onEvent: () => undefined });
    await flush();
    const first = t.transports.last;
    first.connected();
    first.event('x1', 'a');
    t.client.subscribe('b', { onEvent: () => undefined });
    await flush();
    assert.equal(first.closed, true);
    assert.deepEqual(t.transports.last.request.topics, ['a', 'b']);
    assert.equal(t.transports.last.request.since, 'x1');
    assert.equal(t.client.state, 'connecting');
  });

  it('delivers events to matching subscriptions once, drops duplicate ids, and routes resets and confirmations', async () => {
    const t = setup();
    const a: HeraldEvent[] = [];
    const b: HeraldEvent[] = [];
    const resets: string[] = [];
    let confirmed = 0;
    t.client.subscribe<{ n: number }>(['scores/*', 'scores/**'], { onEvent: (e) => a.push(e), onSubscribed: () => confirmed++ });
    t.client.subscribe('news', { onEvent: (e) => b.push(e), onReset: (r) => resets.push(`${r.topic}:${r.reason}`) });
    await flush();
    const c = t.transports.last;
    c.connected();
    assert.equal(confirmed, 0);
    c.acknowledge();
    assert.equal(confirmed, 1);
    c.event('1', 'scores/x', { n: 1 });
    c.event('2', 'news');
    c.event('1', 'scores/x', { n: 1 });
    c.message({ type: 'reset', topic: 'news', reason: 'expired' });
    assert.deepEqual(
      a.map((e) => e.id),
      ['1'],
    );
    assert.deepEqual(
      b.map((e) => e.id),
      ['2'],
    );
    assert.deepEqual(resets, ['news:expired']);
    assert.equal(t.client.lastEventId, '2');
  });

  it('tells only the refused subscription when a grouped request is refused', async () => {
    const t = setup();
    const refused: string[] = [];
    t.client.subscribe('open', { onEvent: () => undefined, onError: (e) => refused.push(`open:${e.code}`) });
    t.client.subscribe('secret', { onEvent: () => undefined, onError: (e) => refused.push(`secret:${e.code}`) });
    await flush();
    const c = t.transports.last;
    c.connected();
    const group = c.sent[0]!;
    assert.deepEqual(group['topics'], ['open', 'secret']);
    c.message({ type: 'error', code: 'forbidden', message: 'no', ref: group['ref'] });
    const [retryOpen, retrySecret] = c.sent.slice(1);
    assert.deepEqual(retryOpen!['topics'], ['open']);
    c.message({ type: 'subscribed', topics: ['open'], ref: retryOpen!['ref'] });
    c.message({ type: 'error', code: 'forbidden', message: 'no', ref: retrySecret!['ref'] });
    assert.deepEqual(refused, ['secret:forbidden']);
    assert.equal(t.client.state, 'connected');
  });

  it('close() is final: no timers, no callbacks, no reconnects', async () => {
    const t = setup();
    const seen: string[] = [];
    t.client.subscribe('news', { onEvent: (e) => seen.push(e.id) });
    await flush();
    const c = t.transports.last;
    c.connected();
    t.client.close();
    assert.equal(c.closed, true);
    c.event('late');
    c.end();
    t.goOnline();
    t.clock.advance(100_000);
    await flush();
    assert.deepEqual(seen, []);
    assert.deepEqual(t.clock.pending, []);
    assert.equal(t.client.state, 'closed');
    assert.equal(t.transports.attempts.length, 1);
    assert.throws(() => t.client.subscribe('news', { onEvent: () => undefined }));
  });

  it('validates options and topics with messages naming them', () => {
    assert.throws(() => createClient({ url: 'ftp://x' }), /option url/);
    assert.throws(() => createClient({ url: 'http://x', transport: 'carrier-pigeon' as 'sse' }), /option transport/);
    assert.throws(() => createClient({ url: 'http://x', backoff: { initial: -1 } }), /option backoff.initial/);
    assert.throws(() => createClient({ url: 'http://x', token: 'a', getToken: () => 'b' }), /option token/);
    const t = setup();
    assert.throws(
      () => t.client.subscribe('a//b', { onEvent: () => undefined }),
      (e: HeraldError) => e.code === 'invalid_topic',
    );
  });
});
