import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { ErrorCode } from '../src/index.js';
import { openSse, parseSseFrames, rawGet, WsSubscriber, type Message } from './helpers/clients.js';
import { metric, publish, startHub, waitUntil, type RunningHub } from './helpers/hub.js';

// Small limits so every limit can be crossed with small requests.
const MAX_EVENT_BYTES = 1024;
const MAX_BODY_BYTES = 4096;
const MAX_TOPICS = 3;

interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

interface HttpRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Send the body with Transfer-Encoding: chunked (no Content-Length), in pieces of this many bytes. */
  chunkSize?: number;
}

/** One plain HTTP request on a fresh connection (no keep-alive pool), answered in full. */
function httpRequest(base: string, spec: HttpRequest): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...spec.headers };
    if (spec.body !== undefined && spec.chunkSize === undefined) headers['content-length'] = String(Buffer.byteLength(spec.body));
    const req = request(`${base}${spec.path}`, { method: spec.method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`no answer to ${spec.method} ${spec.path}`)));
    if (spec.body === undefined) {
      req.end();
    } else if (spec.chunkSize === undefined) {
      req.end(spec.body);
    } else {
      const bytes = Buffer.from(spec.body);
      for (let at = 0; at < bytes.length; at += spec.chunkSize) req.write(bytes.subarray(at, at + spec.chunkSize));
      req.end();
    }
  });
}

/** Asserts the body is exactly `{"error":{"code","message"}}` with the code and a non-empty message; returns the message. */
function assertErrorBody(text: string, code: ErrorCode): string {
  const body = JSON.parse(text) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body), ['error']);
  const error = body['error'] as Record<string, unknown>;
  assert.equal(typeof error, 'object');
  assert.deepEqual(Object.keys(error).sort(), ['code', 'message']);
  assert.equal(error['code'], code);
  assert.equal(typeof error['message'], 'string');
  assert.notEqual(error['message'], '');
  return error['message'] as string;
}

interface HttpRow extends HttpRequest {
  name: string;
  status: number;
  code: ErrorCode;
  /** Response headers that must be present with exactly these values (names in lower case). */
  expectHeaders?: Record<string, string>;
}

/** A POST /publish row with a JSON content type and the body serialized (or given raw as a string). */
function post(name: string, body: unknown, status: number, code: ErrorCode): HttpRow {
  return {
    name,
    method: 'POST',
    path: '/publish',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    status,
    code,
  };
}

const BAD_TOPICS: Array<[string, string]> = [
  ['an empty segment (a//b)', 'a//b'],
  ['a leading slash (/a)', '/a'],
  ['a trailing slash (a/)', 'a/'],
  ['a .. segment (a/../b)', 'a/../b'],
  ['a . topic', '.'],
  ['a space (a b)', 'a b'],
  ['CR LF (a\\r\\nb)', 'a\r\nb'],
  ['a NUL character', 'a\u0000b'],
  ['256 characters', 'a'.repeat(256)],
  ['a * wildcard (a/*)', 'a/*'],
  ['a ** wildcard (a/**)', 'a/**'],
];

const BAD_TYPES: Array<[string, string]> = [
  ['a space', 'has space'],
  ['65 characters', 't'.repeat(65)],
  ['a newline', 'a\nb'],
];

const RESERVED_TYPES = ['connected', 'heartbeat', 'reset', 'error', 'subscribed', 'unsubscribed', 'pong', 'published'];

const BAD_IDS: Array<[string, string]> = [
  ['CR LF', 'a\r\nb'],
  ['a space', 'a b'],
  ['129 characters', 'i'.repeat(129)],
  ['the empty string', ''],
  ['a NUL character', 'a\u0000b'],
];

const HTTP_ROWS: HttpRow[] = [
  post('POST /publish with malformed JSON', '{"topic":"a","data":', 400, 'invalid_json'),
  post('POST /publish with an empty body', '', 400, 'invalid_json'),
  post('POST /publish with a number as the body', '42', 400, 'invalid_request'),
  post('POST /publish with a string as the body', '"just a string"', 400, 'invalid_request'),
  post('POST /publish with null as the body', 'null', 400, 'invalid_request'),
  post('POST /publish with an unknown field', { topic: 'a', data: 1, extra: true }, 400, 'invalid_request'),
  post('POST /publish without data', { topic: 'a', type: 'x' }, 400, 'invalid_request'),
  post('POST /publish with an empty array', [], 400, 'invalid_request'),
  post('POST /publish without a topic', { data: 1 }, 400, 'invalid_topic'),
  ...BAD_TOPICS.map(([what, topic]) => post(`POST /publish with a topic with ${what}`, { topic, data: 1 }, 400, 'invalid_topic')),
  ...BAD_TYPES.map(([what, type]) => post(`POST /publish with a type with ${what}`, { topic: 'a', type, data: 1 }, 400, 'invalid_type')),
  ...RESERVED_TYPES.map((type) => post(`POST /publish with the control name ${type} as type`, { topic: 'a', type, data: 1 }, 400, 'reserved_type')),
  ...BAD_IDS.map(([what, id]) => post(`POST /publish with an id with ${what}`, { topic: 'a', data: 1, id }, 400, 'invalid_id')),
  post('POST /publish with data over maxEventBytes', { topic: 'a', data: 'x'.repeat(MAX_EVENT_BYTES + 10) }, 413, 'event_too_large'),
  {
    ...post('POST /publish with a body over maxBodyBytes (Content-Length)', { topic: 'a', data: 'x'.repeat(MAX_BODY_BYTES + 100) }, 413, 'payload_too_large'),
    expectHeaders: { connection: 'close' },
  },
  {
    ...post('POST /publish with a chunked body over maxBodyBytes', { topic: 'a', data: 'x'.repeat(MAX_BODY_BYTES + 100) }, 413, 'payload_too_large'),
    chunkSize: 1024,
  },
  {
    ...post('POST /publish with Content-Type text/plain', { topic: 'a', data: 1 }, 415, 'unsupported_media_type'),
    headers: { 'content-type': 'text/plain' },
  },
  {
    ...post('POST /publish without a Content-Type', { topic: 'a', data: 1 }, 415, 'unsupported_media_type'),
    headers: {},
  },
  { name: 'GET /publish', method: 'GET', path: '/publish', status: 405, code: 'method_not_allowed', expectHeaders: { allow: 'POST' } },
  { name: 'POST /events', method: 'POST', path: '/events?topic=a', status: 405, code: 'method_not_allowed', expectHeaders: { allow: 'GET' } },
  { name: 'GET /nope', method: 'GET', path: '/nope', status: 404, code: 'not_found' },
  { name: 'GET /ws without an upgrade', method: 'GET', path: '/ws', status: 426, code: 'upgrade_required', expectHeaders: { upgrade: 'websocket' } },
  { name: 'GET /events with no topic', method: 'GET', path: '/events', status: 400, code: 'invalid_request' },
  { name: 'GET /events?topic=a//b', method: 'GET', path: '/events?topic=a//b', status: 400, code: 'invalid_topic' },
  { name: 'GET /events with ** before the last segment', method: 'GET', path: '/events?topic=a/**/b', status: 400, code: 'invalid_topic' },
  {
    name: 'GET /events with more topics than maxTopicsPerConnection',
    method: 'GET',
    path: `/events?${Array.from({ length: MAX_TOPICS + 1 }, (_, i) => `topic=t${i}`).join('&')}`,
    status: 400,
    code: 'too_many_topics',
  },
  {
    name: 'GET /events with Last-Event-ID "bad id"',
    method: 'GET',
    path: '/events?topic=a',
    headers: { 'last-event-id': 'bad id' },
    status: 400,
    code: 'invalid_since',
  },
  { name: 'GET /events with ?lastEventId=bad%20id', method: 'GET', path: '/events?topic=a&lastEventId=bad%20id', status: 400, code: 'invalid_since' },
];

/** Opens a WebSocket expecting the upgrade to be refused; resolves with the HTTP status and body. */
function refusedUpgrade(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { handshakeTimeout: 5000 });
    socket.on('unexpected-response', (req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    socket.on('open', () => {
      socket.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    socket.on('error', reject);
  });
}

/** Waits for the first `error` message a subscriber got and returns it. */
async function firstError(ws: WsSubscriber): Promise<Message> {
  return ws.inbox.waitForControl('error');
}

function assertErrorMessage(message: Message, code: ErrorCode, ref?: number): void {
  assert.equal(message['type'], 'error');
  assert.equal(message['code'], code);
  assert.equal(typeof message['message'], 'string');
  assert.notEqual(message['message'], '');
  if (ref === undefined) assert.equal('ref' in message, false, 'an error to a request without ref carries no ref');
  else assert.equal(message['ref'], ref);
}

describe('bad input', () => {
  let running: RunningHub;
  let wsUrl: string;
  const sockets: WsSubscriber[] = [];
  const open = async (query = ''): Promise<WsSubscriber> => {
    const ws = await WsSubscriber.open(running.url, query);
    sockets.push(ws);
    return ws;
  };

  before(async () => {
    running = await startHub({ maxEventBytes: MAX_EVENT_BYTES, maxBodyBytes: MAX_BODY_BYTES, maxTopicsPerConnection: MAX_TOPICS });
    wsUrl = `${running.url.replace(/^http/, 'ws')}/ws`;
  });
  after(async () => {
    for (const ws of sockets) ws.socket.terminate();
    await running.close();
  });

  describe('HTTP', () => {
    for (const row of HTTP_ROWS) {
      it(`${row.name} -> ${row.status} ${row.code}`, async () => {
        const answer = await httpRequest(running.url, row);
        assert.equal(answer.status, row.status, answer.text);
        assert.match(answer.headers['content-type'] ?? '', /^application\/json/);
        assertErrorBody(answer.text, row.code);
        for (const [name, value] of Object.entries(row.expectHeaders ?? {})) {
          assert.equal(answer.headers[name], value, `header ${name}`);
        }
      });
    }

    it('rejects a whole batch when only item 3 is bad, naming events[2], and publishes none of it', async () => {
      const sse = await openSse(running.url, ['batch/t']);
      try {
        const answer = await httpRequest(running.url, {
          method: 'POST',
          path: '/publish',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify([
            { topic: 'batch/t', type: 'first', data: 1 },
            { topic: 'batch/t', type: 'second', data: 2 },
            { topic: 'batch/t', type: 'has space', data: 3 },
            { topic: 'batch/t', type: 'fourth', data: 4 },
          ]),
        });
        assert.equal(answer.status, 400);
        const message = assertErrorBody(answer.text, 'invalid_type');
        assert.ok(message.includes('events[2]'), `message names events[2]: ${message}`);
        assert.ok(!message.includes('events[0]') && !message.includes('events[1]'), message);

        const marker = await publish(running.url, { topic: 'batch/t', type: 'marker', data: 'm' });
        assert.equal(marker.status, 201);
        // Events reach a subscriber in log order: had any batch item been appended, it would come first.
        const [first] = await sse.inbox.waitForEvents(1);
        assert.equal(first!['type'], 'marker');
        assert.equal(first!['id'], marker.body.ids[0]);
        assert.deepEqual(
          sse.inbox.events.map((e) => e['type']),
          ['marker'],
        );
      } finally {
        sse.close();
      }
    });
  });

  describe('WebSocket', () => {
    it('refuses an upgrade with ?topic=a//b with HTTP 400 invalid_topic', async () => {
      const { status, text } = await refusedUpgrade(`${wsUrl}?topic=a//b`);
      assert.equal(status, 400);
      assertErrorBody(text, 'invalid_topic');
    });

    it('refuses an upgrade with more topics than maxTopicsPerConnection with HTTP 400 too_many_topics', async () => {
      const query = Array.from({ length: MAX_TOPICS + 1 }, (_, i) => `topic=t${i}`).join('&');
      const { status, text } = await refusedUpgrade(`${wsUrl}?${query}`);
      assert.equal(status, 400);
      assertErrorBody(text, 'too_many_topics');
    });

    it('refuses an upgrade with ?since=bad%20id with HTTP 400 invalid_since', async () => {
      const { status, text } = await refusedUpgrade(`${wsUrl}?topic=a&since=bad%20id`);
      assert.equal(status, 400);
      assertErrorBody(text, 'invalid_since');
    });

    it('answers a non-JSON text frame with invalid_json and keeps the connection open', async () => {
      const ws = await open();
      ws.socket.send('this is not json {');
      assertErrorMessage(await firstError(ws), 'invalid_json');
      const pong = await ws.request({ type: 'ping' });
      assert.equal(pong['type'], 'pong');
      assert.equal(ws.closeCode, undefined);
    });

    it('answers {"type":"nope"} with invalid_request and keeps the connection open', async () => {
      const ws = await open();
      ws.socket.send('{"type":"nope"}');
      assertErrorMessage(await firstError(ws), 'invalid_request');
      const pong = await ws.request({ type: 'ping' });
      assert.equal(pong['type'], 'pong');
    });

    it('answers a subscribe with a bad topic and ref 7 with invalid_topic carrying ref 7', async () => {
      const ws = await open();
      ws.socket.send(JSON.stringify({ type: 'subscribe', topics: ['ok', 'a//b'], ref: 7 }));
      assertErrorMessage(await firstError(ws), 'invalid_topic', 7);
      // Nothing of the refused request was subscribed: an event on its valid topic does not arrive.
      await publish(running.url, { topic: 'ok', data: 'not for you' });
      const pong = await ws.request({ type: 'ping' });
      assert.equal(pong['type'], 'pong');
      assert.equal(ws.inbox.events.length, 0);
    });

    it('answers a publish with the reserved type connected with reserved_type carrying its ref', async () => {
      const ws = await open('?topic=ws/reserved');
      const reply = await ws.request({ type: 'publish', topic: 'ws/reserved', event: 'connected', data: 1 });
      assert.equal(typeof reply['ref'], 'number');
      assertErrorMessage(reply, 'reserved_type', reply['ref'] as number);
      assert.equal(ws.inbox.events.length, 0);
    });

    it('answers a publish with data over maxEventBytes with event_too_large carrying its ref', async () => {
      const ws = await open('?topic=ws/large');
      const reply = await ws.request({ type: 'publish', topic: 'ws/large', event: 'big', data: 'x'.repeat(MAX_EVENT_BYTES + 10) });
      assertErrorMessage(reply, 'event_too_large', reply['ref'] as number);
      const pong = await ws.request({ type: 'ping' });
      assert.equal(pong['type'], 'pong');
      assert.equal(ws.inbox.events.length, 0, 'the oversized event was not published');
    });

    it('answers a subscribe past maxTopicsPerConnection with too_many_topics and keeps the topics it had', async () => {
      const ws = await open('?topic=lim/1&topic=lim/2');
      const ok = await ws.request({ type: 'subscribe', topics: ['lim/3'] });
      assert.equal(ok['type'], 'subscribed');
      const refused = await ws.request({ type: 'subscribe', topics: ['lim/4'] });
      assertErrorMessage(refused, 'too_many_topics', refused['ref'] as number);
      await publish(running.url, [
        { topic: 'lim/4', type: 'refused', data: 0 },
        { topic: 'lim/3', type: 'kept', data: 3 },
      ]);
      const [event] = await ws.inbox.waitForEvents(1);
      assert.equal(event!['type'], 'kept');
      assert.deepEqual(
        ws.inbox.events.map((e) => e['topic']),
        ['lim/3'],
      );
    });

    it('closes the connection with 1003 on a binary frame', async () => {
      const ws = await open();
      ws.socket.send(Buffer.from('{"type":"ping"}'), { binary: true });
      assert.equal(await ws.closed(), 1003);
      assert.equal(ws.inbox.control('pong').length, 0);
      assertErrorMessage(ws.inbox.control('error')[0] ?? {}, 'unsupported_data');
    });

    it('closes the connection with 1009 on a frame larger than maxBodyBytes', async () => {
      const ws = await open();
      ws.socket.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(MAX_BODY_BYTES + 100) }));
      assert.equal(await ws.closed(), 1009);
    });
  });

  describe('afterwards', () => {
    it('never lets event data break SSE framing (no raw CR, only id:, data:, retry: and blank lines)', async () => {
      const stream = await rawGet(`${running.url}/events?topic=harden`);
      try {
        assert.equal(stream.response.statusCode, 200);
        await waitUntil(() => stream.text().includes('"type":"connected"'), 'the connected message');
        const payloads: unknown[] = [
          '\r\n\r\ndata: injected',
          'a\rb\nc\r\n',
          'line\u2028separator\u2029paragraph',
          'nul\u0000in\u0000the\u0000middle',
          { '\r\n\r\ndata: injected\u0000': ['\n\nid: 1\n\n', '\u2028', '\u0000'] },
        ];
        const { status, body } = await publish(
          running.url,
          payloads.map((data) => ({ topic: 'harden', type: 'h', data })),
        );
        assert.equal(status, 201);
        const ids = body.ids as string[];
        // One id: line per event, plus the one of `connected` (the stream's resume position).
        await waitUntil(() => (stream.text().match(/^id: /gm) ?? []).length >= payloads.length + 1, 'every event frame');

        const text = stream.text();
        assert.equal(text.includes('\r'), false, 'no raw CR in the stream');
        assert.equal(text.includes('\u0000'), false, 'no raw NUL in the stream');
        for (const line of text.split('\n')) {
          assert.match(line, /^(id: |data: |retry: |$)/, `unexpected line ${JSON.stringify(line)}`);
          assert.equal(line.startsWith('data: injected'), false);
          if (line.startsWith('data: ')) JSON.parse(line.slice('data: '.length));
        }
        const events = parseSseFrames(text).filter((frame) => frame['id'] !== undefined && !frame['data']!.startsWith('{"type":"connected"'));
        assert.deepEqual(
          events.map((frame) => frame['id']),
          ids,
        );
        assert.deepEqual(
          events.map((frame) => (JSON.parse(frame['data'] ?? 'null') as Message)['data']),
          payloads,
        );
      } finally {
        stream.destroy();
      }
    });

    it('still serves SSE and WebSocket subscribers and publishers end to end', async () => {
      const sse = await openSse(running.url, ['after/all']);
      const ws = await open('?topic=after/all');
      try {
        const { status, body } = await publish(running.url, { topic: 'after/all', type: 'fine', data: { ok: true } });
        assert.equal(status, 201);
        const published = await ws.request({ type: 'publish', topic: 'after/all', event: 'fine', data: { ok: 'ws' } });
        assert.equal(published['type'], 'published');
        for (const inbox of [sse.inbox, ws.inbox]) {
          const events = await inbox.waitForEvents(2);
          assert.deepEqual(
            events.map((e) => [e['id'], e['type'], e['data']]),
            [
              [body.ids[0], 'fine', { ok: true }],
              [published['id'], 'fine', { ok: 'ws' }],
            ],
          );
        }
      } finally {
        sse.close();
      }
    });

    it('counts the refusals in herald_requests_rejected_total', async () => {
      assert.ok((await metric(running.url, 'herald_requests_rejected_total{code="invalid_topic"}')) > 0);
      assert.ok((await metric(running.url, 'herald_requests_rejected_total{code="invalid_json"}')) > 0);
      assert.ok((await metric(running.url, 'herald_requests_rejected_total{code="payload_too_large"}')) > 0);
    });
  });
});
