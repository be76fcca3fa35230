import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ERRORS, isErrorCode } from '@herald/protocol';
import { propertySeed } from '../../protocol/test/property.js';
import { openSse, WsSubscriber, type Message, type SseSubscriber } from './helpers/clients.js';
import { deliveryProblem, type ExpectedEvent } from './helpers/fuzz-delivery.js';
import { openStalled, rawExchange, type RawAnswer } from './helpers/fuzz-io.js';
import {
  bodyArb,
  burstBodyArb,
  contentTypeArb,
  endingFrames,
  framingArb,
  FUZZ_LIMITS,
  requestFrames,
  sseQueryArb,
  WS_ENDINGS,
  wsRequestArb,
  type WsEnding,
} from './helpers/fuzz-inputs.js';
import { publish, startHub, waitUntil, type RunningHub } from './helpers/hub.js';
import { RawWsClient } from './helpers/raw-ws.js';

/**
 * A bounded fuzz run against a live hub: random and mutated publishes, raw
 * WebSocket frames, SSE queries and slow or broken HTTP. The hub must stay up,
 * answer only documented errors (docs/errors.md), close WebSockets only with
 * documented codes, and deliver every acknowledged event exactly once, in order,
 * to side subscribers on both transports.
 *
 * Seeded: a failure names FC_SEED to replay it. FUZZ_RUNS sets the number of
 * actions (default 400; try FUZZ_RUNS=5000 for a long manual run).
 */
const RUNS = Number(process.env['FUZZ_RUNS'] || 400);
if (!Number.isSafeInteger(RUNS) || RUNS < 1) throw new Error(`FUZZ_RUNS must be a positive integer, got "${process.env['FUZZ_RUNS']}"`);
const SEED = propertySeed();

/** [errors.md, protocol.md §9] Close codes the hub may send, plus 1002 (ws library, bad frames). */
const DOCUMENTED_CLOSE_CODES = new Set([1002, 1003, 1007, 1009, 1011, 1012, 4001, 4009, 4029]);

/** Codes with a row in the table of docs/errors.md: an answer's code must be in the catalog and in the docs. */
const DOCUMENTED_CODES = new Set(
  [...readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8').matchAll(/^\| `([a-z_]+)` \|/gm)].map((match) => match[1]!),
);

/** Types of the WebSocket messages that answer a request. */
const REPLY_TYPES = new Set(['subscribed', 'unsubscribed', 'pong', 'published', 'refreshed', 'error']);

/** Distinct problems seen, each with a count and its first example. */
class Violations {
  readonly seen = new Map<string, { count: number; example: string }>();
  add(what: string, example: unknown): void {
    const entry = this.seen.get(what);
    if (entry !== undefined) entry.count++;
    else this.seen.set(what, { count: 1, example: describeInput(example) });
  }
  report(): string {
    return [...this.seen].map(([what, { count, example }]) => `- ${what} (x${count}); e.g. ${example}`).join('\n');
  }
}

/** A one-line, bounded rendering of an input for the failure report. */
function describeInput(value: unknown): string {
  const text = Buffer.isBuffer(value) ? `bytes ${value.toString('hex').slice(0, 120)}` : typeof value === 'string' ? value : JSON.stringify(value);
  return JSON.stringify(text.length > 240 ? `${text.slice(0, 240)}… (${text.length} chars)` : text);
}

/** How often each outcome was seen, printed as a test diagnostic so a run shows what it exercised. */
class Coverage {
  readonly counts = new Map<string, number>();
  add(what: string): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + 1);
  }
  toString(): string {
    return [...this.counts]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([what, n]) => `${what}: ${n}`)
      .join(', ');
  }
}

/** The type of the values an arbitrary generates. */
type ArbValue<A> = A extends fc.Arbitrary<infer T> ? T : never;

const publishActionArb = fc.record({
  kind: fc.constant('publish' as const),
  body: bodyArb,
  contentType: contentTypeArb,
  framing: framingArb,
  chunk: fc.integer({ min: 1, max: 4096 }),
  slow: fc.oneof({ weight: 30, arbitrary: fc.constant(false) }, fc.constant(true)),
});
const wsActionArb = fc.record({
  kind: fc.constant('ws' as const),
  requests: fc.array(fc.tuple(wsRequestArb, fc.integer({ min: 1, max: 3 }), fc.boolean()), { maxLength: 3 }),
  ending: fc.constantFrom(...(Object.keys(WS_ENDINGS) as WsEnding[])),
  seed: fc.nat(),
  cuts: fc.array(fc.nat(), { maxLength: 3 }),
});
const upgradeActionArb = fc.record({
  kind: fc.constant('upgrade' as const),
  query: sseQueryArb,
  drop: fc.oneof(
    { weight: 3, arbitrary: fc.constant<Array<'upgrade' | 'connection' | 'key' | 'version'>>([]) },
    fc.subarray(['upgrade', 'connection', 'key', 'version'] as const, { maxLength: 2 }),
  ),
  key: fc.constantFrom('valid', 'valid', 'valid', 'short', 'empty'),
  version: fc.constantFrom('13', '13', '13', '8', 'x'),
});
type PublishAction = ArbValue<typeof publishActionArb>;
type WsAction = ArbValue<typeof wsActionArb>;
type UpgradeAction = ArbValue<typeof upgradeActionArb>;

/** Requests Node's parser refuses or that hit routing rules: each must get a documented JSON error (HEAD: a bare 405). */
const MALFORMED_HTTP = [
  'GARBAGE\r\n\r\n',
  'GET / HTTP/9.9\r\nHost: x\r\n\r\n',
  'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n',
  `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`,
  'POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
  'GET /nope HTTP/1.1\r\nHost: x\r\n\r\n',
  'DELETE /publish HTTP/1.1\r\nHost: x\r\n\r\n',
  'HEAD /events?topic=a HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /events?topic=fz%2F%E9 HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /events?topic=fz/\xe9 HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /ws HTTP/1.1\r\nHost: x\r\n\r\n',
];
const burstActionArb = fc.record({ kind: fc.constant('burst' as const), bodies: fc.array(burstBodyArb, { minLength: 2, maxLength: 8 }) });
const actionArb = fc.oneof(
  { weight: 2, arbitrary: burstActionArb },
  { weight: 10, arbitrary: publishActionArb },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('sse' as const), query: sseQueryArb }) },
  { weight: 4, arbitrary: wsActionArb },
  { weight: 2, arbitrary: upgradeActionArb },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('malformed' as const), request: fc.constantFrom(...MALFORMED_HTTP) }) },
);

describe('fuzz run against a live hub', () => {
  let running: RunningHub;
  let sse: SseSubscriber;
  let ws: WsSubscriber;
  const violations = new Violations();
  const coverage = new Coverage();
  const expected: ExpectedEvent[] = [];
  let group = 0;
  const publisherIds = new Set<string>();

  before(async () => {
    // Timeouts well above what the slow clients here take; the stalled ones get 408 when Node's 30 s check runs.
    running = await startHub({ ...FUZZ_LIMITS, headersTimeout: 5000, requestTimeout: 10_000 });
    sse = await openSse(running.url, ['fz/**']);
    ws = await WsSubscriber.open(running.url, `?topic=${encodeURIComponent('fz/**')}`);
  });
  after(async () => {
    sse?.close();
    ws?.close();
    await running?.close();
  });

  /** Checks an error answer is `{"error":{"code","message"}}` with a catalog code and that code's status. */
  function checkError(label: string, answer: Extract<RawAnswer, { kind: 'answer' }>, input: unknown): void {
    let body: unknown;
    try {
      body = JSON.parse(answer.body);
    } catch {
      return violations.add(`${label}: ${answer.status} with a body that is not JSON (${answer.headers['content-type'] ?? 'no content-type'})`, input);
    }
    const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    const shapeOk =
      error !== undefined &&
      Object.keys(body as object).length === 1 &&
      typeof error.message === 'string' &&
      error.message !== '' &&
      Object.keys(error).sort().join() === 'code,message';
    if (!shapeOk || !isErrorCode(error.code)) return violations.add(`${label}: ${answer.status} with an undocumented body`, { input, body: answer.body });
    if (ERRORS[error.code].status !== answer.status)
      return violations.add(`${label}: ${error.code} answered with ${answer.status}, catalog says ${ERRORS[error.code].status}`, input);
    if (!DOCUMENTED_CODES.has(error.code)) violations.add(`${label}: ${error.code} is not in docs/errors.md`, input);
    if (error.code === 'internal_error') violations.add(`${label}: 500 internal_error`, input);
  }

  /** Returns the answer when it is a success, after checking failures are documented errors. */
  function checkHttp(label: string, answer: RawAnswer, input: unknown): Extract<RawAnswer, { kind: 'answer' }> | undefined {
    if (answer.kind !== 'answer') {
      violations.add(
        `${label}: no HTTP answer (${answer.kind}${answer.received === '' ? '' : `, got ${JSON.stringify(answer.received.slice(0, 60))}`})`,
        input,
      );
      return undefined;
    }
    const code = /"code":"([a-z_]+)"/.exec(answer.body)?.[1];
    coverage.add(`${label} ${answer.status}${code === undefined ? '' : ` ${code}`}`);
    if (answer.status >= 200 && answer.status < 300) return answer;
    if (answer.status === 101) return answer;
    checkError(label, answer, input);
    return undefined;
  }

  async function runPublish(action: PublishAction, request = 0): Promise<void> {
    const body = Buffer.isBuffer(action.body) ? action.body : Buffer.from(action.body, 'utf8');
    const headers = ['POST /publish HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close'];
    if (action.contentType !== undefined) headers.push(`Content-Type: ${action.contentType}`);
    let sent = body;
    let payload: Buffer[];
    if (action.framing === 'chunked') {
      headers.push('Transfer-Encoding: chunked');
      payload = [];
      for (let at = 0; at < body.length; at += action.chunk) {
        const piece = body.subarray(at, at + action.chunk);
        payload.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
      }
      payload.push(Buffer.from('0\r\n\r\n'));
    } else {
      // 'short-length' announces one byte less: the hub reads that much, and the last byte starts a broken next request.
      if (action.framing === 'short-length' && body.length > 1) sent = body.subarray(0, body.length - 1);
      headers.push(`Content-Length: ${sent.length}`);
      payload = [body];
    }
    const bytes = Buffer.concat([Buffer.from(`${headers.join('\r\n')}\r\n\r\n`), ...payload]);
    const pieceSize = action.slow ? 1 + (action.chunk % 7) : bytes.length;
    const pieces: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += pieceSize) pieces.push(bytes.subarray(at, at + pieceSize));
    // A slow client sends at most ~100 pieces 5 ms apart: slow, but inside the hub's timeouts.
    const answer = await rawExchange(running.port, pieces.length > 100 ? [bytes] : pieces, { pauseMs: action.slow ? 5 : 0 });
    const ok = checkHttp('POST /publish', answer, action);
    if (ok === undefined) return;
    if (ok.status !== 201) return violations.add(`POST /publish: unexpected success status ${ok.status}`, action);
    recordAcknowledged(sent, ok.body, action, request);
  }

  /** Adds the events of a 201 to what the side subscribers must receive. */
  function recordAcknowledged(sent: Buffer, answerBody: string, action: unknown, request: number): void {
    let events: Array<Record<string, unknown>>;
    let ids: unknown;
    try {
      const parsed = JSON.parse(sent.toString('utf8')) as unknown;
      events = (Array.isArray(parsed) ? parsed : [parsed]) as Array<Record<string, unknown>>;
      ids = (JSON.parse(answerBody) as { ids?: unknown }).ids;
    } catch {
      return violations.add('POST /publish: 201 for a body that is not JSON, or a 201 body that is not JSON', action);
    }
    if (!Array.isArray(ids) || ids.length !== events.length || !ids.every((id) => typeof id === 'string')) {
      return violations.add('POST /publish: 201 body is not {"ids":[…]} with one id per event', { action, answerBody });
    }
    events.forEach((event, i) => {
      const publisherId = event['id'];
      if (typeof publisherId === 'string') {
        if (publisherIds.has(publisherId)) return; // a duplicate: not delivered again
        publisherIds.add(publisherId);
      }
      const topic = String(event['topic']);
      if (!topic.startsWith('fz/')) return;
      expected.push({
        id: ids[i] as string,
        topic,
        type: typeof event['type'] === 'string' ? event['type'] : 'message',
        data: JSON.stringify(event['data']),
        group,
        request,
      });
    });
  }

  async function runSse(query: { path: string; lastEventIdHeader: string | null }): Promise<void> {
    const header = query.lastEventIdHeader === null ? '' : `Last-Event-ID: ${query.lastEventIdHeader}\r\n`;
    const request = Buffer.from(`GET ${query.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n${header}Connection: close\r\n\r\n`, 'utf8');
    const ok = checkHttp('GET /events', await rawExchange(running.port, [request]), query);
    if (ok === undefined) return;
    if (ok.status !== 200 || !/^retry: \d+\n(id: [^\n]+\n)?data: \{"type":"connected"/.test(ok.body))
      violations.add(`GET /events: ${ok.status} without retry: and connected first`, { query, body: ok.body.slice(0, 200) });
  }

  async function runUpgrade(action: UpgradeAction): Promise<void> {
    const headers = ['Host: 127.0.0.1'];
    if (!action.drop.includes('upgrade')) headers.push('Upgrade: websocket');
    if (!action.drop.includes('connection')) headers.push('Connection: Upgrade');
    if (!action.drop.includes('key'))
      headers.push(`Sec-WebSocket-Key: ${action.key === 'valid' ? 'dGhlIHNhbXBsZSBub25jZQ==' : action.key === 'short' ? 'abc' : ''}`);
    if (!action.drop.includes('version')) headers.push(`Sec-WebSocket-Version: ${action.version}`);
    const path = action.query.path.replace('/events', '/ws').replace('lastEventId=', 'since=');
    const answer = await rawExchange(running.port, [Buffer.from(`GET ${path} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`, 'utf8')]);
    const ok = checkHttp('GET /ws upgrade', answer, { ...action, path });
    if (ok !== undefined && ok.status !== 101) violations.add(`GET /ws upgrade: unexpected success ${ok.status}`, action);
  }

  async function runWs(action: WsAction): Promise<void> {
    let client: RawWsClient;
    try {
      client = await RawWsClient.open(running.port, '/ws');
    } catch (error) {
      return violations.add(`WebSocket: a plain upgrade was refused (${String(error)})`, action);
    }
    const frames = [
      ...action.requests.flatMap(([request, fragments, ping]) => requestFrames(request, fragments, ping)),
      ...endingFrames(action.ending, action.seed),
    ];
    const bytes = Buffer.concat(frames);
    const cuts = [...new Set(action.cuts.map((c) => c % bytes.length))].sort((a, b) => a - b);
    let last = 0;
    for (const cut of [...cuts, bytes.length]) {
      client.socket.write(bytes.subarray(last, cut));
      last = cut;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const wanted = WS_ENDINGS[action.ending];
    const closeFrame = () => client.frames.find((f) => f.opcode === 8);
    try {
      if (wanted === undefined) await waitUntil(() => client.messages.some((m) => m['type'] === 'pong' && m['ref'] === 'end') || client.closed, 'pong', 5000);
      else await waitUntil(() => closeFrame() !== undefined || client.closed, 'close', 5000);
    } catch {
      violations.add(`WebSocket ${action.ending}: no answer within 5 s`, action);
    }
    let messages: Message[] = [];
    try {
      messages = client.messages;
    } catch {
      violations.add('WebSocket: a text frame from the hub is not JSON', action);
    }
    for (const message of messages.filter((m) => m['type'] === 'error')) {
      if (!isErrorCode(message['code']) || !DOCUMENTED_CODES.has(message['code']) || typeof message['message'] !== 'string')
        violations.add('WebSocket: an error message with an undocumented code', message);
      if (message['code'] === 'internal_error') violations.add('WebSocket: internal_error', action);
    }
    const close = closeFrame();
    const code = close === undefined ? undefined : close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005;
    coverage.add(`ws ${action.ending} ${code ?? 'open'}`);
    if (wanted === undefined) {
      if (code !== undefined) violations.add(`WebSocket: closed with ${code} after valid-or-refused requests`, action);
      // [protocol.md §9] Every request gets exactly one reply (or error), in order; the last is the final pong.
      const replies = messages.filter((m) => REPLY_TYPES.has(String(m['type'])));
      if (replies.length !== action.requests.length + 1 || replies.at(-1)?.['ref'] !== 'end') {
        violations.add(`WebSocket: ${replies.length} replies to ${action.requests.length + 1} requests`, { action, replies });
      }
    } else if (code === undefined) {
      violations.add(`WebSocket ${action.ending}: no close frame (socket ${client.closed ? 'closed' : 'open'})`, action);
    } else {
      if (code !== wanted) violations.add(`WebSocket ${action.ending}: close ${code}, expected ${wanted}`, action);
      if (code !== 1000 && !DOCUMENTED_CLOSE_CODES.has(code)) violations.add(`WebSocket: undocumented close code ${code}`, action);
      if (action.ending === 'binary' && !messages.some((m) => m['type'] === 'error' && m['code'] === 'unsupported_data'))
        violations.add('WebSocket binary: no unsupported_data error before close 1003', action);
    }
    client.socket.destroy();
  }

  it('survives the run, answers only documented errors, and delivers every acknowledged event exactly once, in order', { timeout: 120_000 }, async (t) => {
    const stalled = [
      openStalled(running.port, 'POST /publish HTTP/1.1\r\nHost: x\r\nContent-Le'),
      openStalled(running.port, 'GET /events?topic=fz HTTP/1.1\r\n'),
      openStalled(running.port, 'GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'),
      openStalled(running.port, 'POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"topic":'),
    ];
    for (const action of fc.sample(actionArb, { seed: SEED, numRuns: RUNS })) {
      group++;
      if (action.kind === 'publish') await runPublish(action);
      else if (action.kind === 'burst') {
        // Concurrent publishes: the log orders them, the subscribers must agree with it.
        await Promise.all(
          action.bodies.map((body, i) => runPublish({ kind: 'publish', body, contentType: 'application/json', framing: 'length', chunk: 1, slow: false }, i)),
        );
      } else if (action.kind === 'sse') await runSse(action.query);
      else if (action.kind === 'ws') await runWs(action);
      else if (action.kind === 'upgrade') await runUpgrade(action);
      else {
        const head = action.request.startsWith('HEAD ');
        const answer = await rawExchange(running.port, [Buffer.from(action.request, 'latin1')], { head });
        // [protocol.md §1] HEAD on /events gets 405; a HEAD answer has no body to check.
        if (head) {
          if (answer.kind !== 'answer' || answer.status !== 405) violations.add('HEAD /events: not 405', answer);
          continue;
        }
        const ok = checkHttp('malformed HTTP', answer, action.request);
        if (ok !== undefined && !action.request.startsWith('GET /healthz')) violations.add(`malformed HTTP: success ${ok.status}`, action.request);
      }
    }

    // Whatever the stalled clients got (408 request_timeout once the hub's timer fires) must be a documented error.
    for (const { socket, received } of stalled) {
      const text = received();
      if (text !== '') {
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
        const body = text.slice(text.indexOf('\r\n\r\n') + 4);
        checkError('stalled request', { kind: 'answer', status, headers: {}, body, head: '' }, text);
      }
      socket.destroy();
    }

    // The hub is alive, and both side subscribers got exactly the acknowledged events, in order.
    const health = await fetch(`${running.url}/healthz`);
    assert.equal(health.status, 200, 'GET /healthz after the run');
    const sentinel = await publish(running.url, { topic: 'fz/sentinel', type: 'end', data: null });
    assert.equal(sentinel.status, 201, 'a publish after the run');
    const sentinelId = sentinel.body.ids[0] as string;
    for (const [name, inbox] of [
      ['SSE', sse.inbox],
      ['WebSocket', ws.inbox],
    ] as const) {
      try {
        await waitUntil(() => inbox.events.some((e) => e['id'] === sentinelId), `${name} side subscriber to get the sentinel`, 10_000);
      } catch (error) {
        violations.add(String(error), { have: inbox.events.length, acknowledged: expected.length });
        continue;
      }
      const got = inbox.events.map((e) => e['id'] as string);
      const problem = deliveryProblem(got, [...expected, { id: sentinelId, topic: 'fz/sentinel', type: 'end', data: 'null', group: group + 1, request: 0 }]);
      if (problem !== undefined) violations.add(`${name} side subscriber: ${problem}`, { acknowledged: expected.length });
      const byId = new Map(inbox.events.map((e) => [e['id'] as string, e]));
      for (const e of expected) {
        const envelope = byId.get(e.id);
        if (envelope !== undefined && (envelope['topic'] !== e.topic || envelope['type'] !== e.type || JSON.stringify(envelope['data']) !== e.data)) {
          violations.add(`${name} side subscriber: an event differs from what was published`, { envelope, e });
        }
      }
      if (inbox.control('connected').length !== 1) violations.add(`${name} side subscriber reconnected`, inbox.control('connected'));
    }
    t.diagnostic(`seed ${SEED}, ${RUNS} actions, ${expected.length} events delivered; outcomes: ${coverage}`);
    assert.ok(expected.length > 0, 'the run published something');
    assert.equal(
      violations.seen.size,
      0,
      `replay with FC_SEED=${SEED} FUZZ_RUNS=${RUNS}; ${expected.length} events acknowledged. Problems:\n${violations.report()}`,
    );
  });
});
