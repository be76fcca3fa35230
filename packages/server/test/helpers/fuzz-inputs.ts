import fc from 'fast-check';
import { encodeFrame, type FrameSpec } from './fuzz-io.js';

/**
 * Input generators for the live fuzz run (fuzz-live.test.ts). Valid publishes go to
 * `fz/…` (what the side subscribers watch) or `oz/…`; WebSocket requests only ever
 * name topics starting with `wz` and ids starting with `w-`, so the only events under
 * `fz/` are the HTTP publishes the test tracks.
 */

/** Limits the fuzzed hub runs with, small so every limit is crossed cheaply. */
export const FUZZ_LIMITS = { maxBodyBytes: 32 * 1024, maxEventBytes: 4 * 1024 } as const;

const segmentArb = fc.stringMatching(/^[A-Za-z0-9\-_.~:@=+]{1,6}$/).filter((s) => s !== '.' && s !== '..');
const unicodeArb = fc.oneof(fc.string({ unit: 'binary', maxLength: 8 }), fc.constantFrom('é', '😀', '\u2028', '\0', '\r\n', '\ud800', '\ufeff'));

const goodTopicArb = fc.oneof(
  { weight: 4, arbitrary: segmentArb.map((s) => `fz/${s}`) },
  segmentArb.map((s) => `fz/${s}/x`),
  segmentArb.map((s) => `oz/${s}`),
);
const badTopicArb = fc.oneof(
  fc.constantFrom('fz/*', 'fz/**', 'fz//a', '', '/fz', 'fz/', 'fz/a b', 'fz/./a', 'fz/..', 'fz/é', `fz/${'x'.repeat(260)}`),
  unicodeArb.map((u) => `fz/${u}`),
  fc.constantFrom<unknown>(5, null, true, ['fz/a'], { t: 1 }),
);
const typeArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  fc.constantFrom<unknown>(null, 'created', 'a.b:c-d_e', 'reset', 'connected', 'paused', 'a b', '', 'x'.repeat(65), 7, 'é'),
);
const idArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  fc.constantFrom<unknown>(null, 'p-1', 'p-2', 'p-3', 'orders/42/created', 'abcdef0123-1', '0123456789-x', 'a b', '', 'x'.repeat(129), 42, 'a\nb'),
);
const dataArb = fc.oneof(
  { weight: 5, arbitrary: fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }) },
  fc.string({ minLength: 3000, maxLength: 5000 }),
  fc.constantFrom<unknown>(null, 0, -0, 1e308, '', '\u0000', JSON.parse('{"__proto__":1}'), [[[[[]]]]]),
);

/** One event object as a publisher might send it, valid or not. */
const eventArb = fc
  .record({
    topic: fc.oneof({ weight: 5, arbitrary: goodTopicArb }, badTopicArb),
    type: typeArb,
    data: dataArb,
    id: idArb,
    extra: fc.oneof({ weight: 12, arbitrary: fc.constant(null) }, fc.constantFrom('extra', 'Topic', 'ref')),
    dropData: fc.oneof({ weight: 12, arbitrary: fc.constant(false) }, fc.constant(true)),
  })
  .map(({ topic, type, data, id, extra, dropData }) => {
    const event: Record<string, unknown> = { topic };
    if (type !== undefined) event['type'] = type;
    if (!dropData) event['data'] = data;
    if (id !== undefined) event['id'] = id;
    if (extra !== null) event[extra] = 1;
    return event;
  });

/** An event that is valid (bar a publisher id that may repeat, which makes it a duplicate). */
const validEventArb = fc
  .record(
    {
      topic: goodTopicArb,
      type: fc.constantFrom('created', 'a.b:c-d_e', 'message'),
      data: fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }),
      id: fc.oneof(
        fc.constantFrom('p-1', 'p-2', 'orders/42/created'),
        fc.integer({ min: 1, max: 2000 }).map((n) => `q/${n}`),
      ),
    },
    { requiredKeys: ['topic', 'data'] },
  )
  .map((event) => event as Record<string, unknown>);

/** Valid bodies without publisher ids, for concurrent publishes (which of two requests sharing an id wins is up to the log). */
export const burstBodyArb = fc
  .oneof(validEventArb, fc.array(validEventArb, { minLength: 1, maxLength: 4 }))
  .map((body) => JSON.stringify(body, (key, value: unknown) => (key === 'id' ? undefined : value)));

/** Text of a JSON value nested `depth` levels. */
const deep = (depth: number, open: string, close: string): string => `${open.repeat(depth)}${close.repeat(depth)}`;

/** A POST /publish body: valid events and batches, broken JSON, wrong shapes, huge, deep, odd bytes. */
export const bodyArb: fc.Arbitrary<string | Buffer> = fc.oneof(
  { weight: 6, arbitrary: eventArb.map((e) => JSON.stringify(e)) },
  { weight: 6, arbitrary: validEventArb.map((e) => JSON.stringify(e)) },
  { weight: 2, arbitrary: fc.array(validEventArb, { minLength: 1, maxLength: 5 }).map((b) => JSON.stringify(b)) },
  { weight: 3, arbitrary: fc.array(eventArb, { minLength: 1, maxLength: 4 }).map((b) => JSON.stringify(b)) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        eventArb.map((e) => JSON.stringify(e)),
        fc.nat(),
        fc.nat(5),
        fc.string({ maxLength: 3 }),
      )
      .map(([t, at, cut, ins]) => t.slice(0, at % (t.length + 1)) + ins + t.slice((at % (t.length + 1)) + cut)),
  },
  fc.constantFrom(
    '[]',
    '{}',
    'null',
    '7',
    '"fz/a"',
    '',
    ' ',
    '[1]',
    '{"topic":"fz/a","data":1}{}',
    '\ufeff{"topic":"fz/a","data":1}',
    '{"topic":"fz/a","data":1,"topic":"fz/b"}',
  ),
  fc.constantFrom(10, 100, 5000, 10000).map((depth) => `{"topic":"fz/deep","data":${deep(depth, '[', ']')}}`),
  fc.constantFrom(10, 5000, 10000).map((depth) => `{"topic":"fz/deep","data":${deep(depth, '{"a":', '}').replace('{"a":}', '{"a":1}')}}`),
  fc.integer({ min: FUZZ_LIMITS.maxBodyBytes - 64, max: FUZZ_LIMITS.maxBodyBytes + 4096 }).map((n) => `{"topic":"fz/huge","data":"${'x'.repeat(n)}"}`),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  fc.constantFrom(Buffer.from('{"topic":"fz/a","data":"\xff\xfe"}', 'latin1'), Buffer.from('{"topic":"fz/a","data":"\xed\xa0\x80"}', 'latin1')),
);

/** Content-Type headers, mostly acceptable. */
export const contentTypeArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant<string | undefined>('application/json') },
  fc.constantFrom<string | undefined>(
    'application/json; charset=utf-8',
    'application/cloudevents+json',
    'APPLICATION/JSON',
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/jsonx',
    'multipart/form-data; boundary=x',
    '',
    undefined,
  ),
);

/** How the body travels: Content-Length, chunked in pieces, or a Content-Length that lies short. */
export const framingArb = fc.constantFrom('length', 'length', 'chunked', 'short-length');

/** An SSE request: topics, filter and resume position, encoded right or wrong. */
const brokenSseQueryArb = fc
  .record({
    topics: fc.array(fc.oneof(goodTopicArb, fc.constantFrom('fz/*', 'fz/**', '**', 'a/**/b', 'a b', '', '%zz', 'fz/%F0%9F', 'fz/+x', 'fz%2Fa'), unicodeArb), {
      maxLength: 4,
    }),
    filter: fc.option(fc.constantFrom('n = 1', "a.b != 'x' and n > 2", 'x = ', 'AND', "s = 'unterminated", 'n in (1,2', '%00', 'n = 1e999'), { freq: 3 }),
    lastEventId: fc.option(fc.oneof(fc.constantFrom('p-1', 'zzz', 'a b', '', 'x'.repeat(129), '0123456789-1'), unicodeArb), { freq: 3 }),
    header: fc.option(fc.constantFrom('p-1', 'nope', 'a\u00e9', 'x'.repeat(200)), { freq: 4 }),
    encode: fc.constantFrom('component', 'component', 'raw', 'plus'),
  })
  .map(({ topics, filter, lastEventId, header, encode }) => {
    const enc = (value: string): string => {
      if (encode === 'raw') return value;
      let encoded: string;
      try {
        encoded = encodeURIComponent(value);
      } catch {
        return value; // a lone surrogate: send it raw (as UTF-8 of U+FFFD)
      }
      return encode === 'plus' ? encoded.replace(/%20/g, '+') : encoded;
    };
    const params = topics.map((t) => `topic=${enc(t)}`);
    if (filter !== null) params.push(`filter=${enc(filter)}`);
    if (lastEventId !== null) params.push(`lastEventId=${enc(lastEventId)}`);
    return { path: `/events?${params.join('&')}`, lastEventIdHeader: header };
  });

/** A well-formed SSE request, so that streams (and WebSocket upgrades) really open. */
const validSseQueryArb = fc
  .record({
    topics: fc.array(fc.oneof(goodTopicArb, fc.constantFrom('fz/*', 'fz/**', '**', 'wz/**')), { minLength: 1, maxLength: 3 }),
    filter: fc.constantFrom(undefined, 'n = 1', "a.b != 'x' and n > 2"),
    lastEventId: fc.constantFrom(undefined, 'p-1', 'q/7', 'never-seen'),
  })
  .map(({ topics, filter, lastEventId }) => {
    const params = new URLSearchParams();
    for (const topic of topics) params.append('topic', topic);
    if (filter !== undefined) params.set('filter', filter);
    if (lastEventId !== undefined) params.set('lastEventId', lastEventId);
    return { path: `/events?${params.toString().replace(/\+/g, '%20')}`, lastEventIdHeader: null as string | null };
  });

/** SSE requests: about half well-formed, the rest broken in some way. */
export const sseQueryArb = fc.oneof(validSseQueryArb, brokenSseQueryArb);

/**
 * Publisher ids for WebSocket publishes: never one an HTTP publish uses, because the
 * log dedupes ids across topics and would drop a later HTTP publish the test expects.
 */
const wsIdArb = fc.oneof(
  fc.constantFrom<unknown>(null, 'abcdef0123-1', 'w a', '', 5),
  fc.nat(50).map((n) => `w-${n}`),
);

/** WebSocket requests, valid and not, naming only `wz…` topics. */
const wsTopicArb = fc.oneof(
  segmentArb.map((s) => `wz/${s}`),
  fc.constantFrom('wz/*', 'wz/**', 'wz//a', 'wz a'),
  unicodeArb.map((u) => `wz${u}`),
);
export const wsRequestArb: fc.Arbitrary<string> = fc.oneof(
  fc.record({ type: fc.constant('ping'), ref: fc.oneof(fc.integer(), fc.string({ maxLength: 70 })) }, { requiredKeys: ['type'] }).map((m) => JSON.stringify(m)),
  fc
    .record(
      {
        type: fc.constantFrom('subscribe', 'unsubscribe'),
        topics: fc.array(wsTopicArb, { maxLength: 3 }),
        since: fc.constantFrom('p-1', 'zz z'),
        filter: fc.constantFrom('n = 1', 'x ='),
        ref: fc.nat(),
      },
      { requiredKeys: ['type', 'topics'] },
    )
    .map((m) => JSON.stringify(m)),
  fc
    .record(
      { type: fc.constant('publish'), topic: wsTopicArb, event: typeArb, data: dataArb, id: wsIdArb, ref: fc.nat() },
      { requiredKeys: ['type', 'topic', 'data'] },
    )
    .map((m) => JSON.stringify(m)),
  fc.record({ type: fc.constant('refresh'), token: fc.string({ maxLength: 20 }) }).map((m) => JSON.stringify(m)),
  fc.constantFrom('{bad', '[]', 'null', '{"type":"nope"}', '{"type":"ping","extra":1}', '', '{"type":"ping","ref":{"a":1}}'),
  fc.string({ unit: 'binary', maxLength: 30 }),
);

/** How a WebSocket session ends, and the close code the hub must answer it with (undefined: stays open). */
export const WS_ENDINGS = {
  'ping-ok': undefined,
  'client-close': 1000,
  binary: 1003,
  oversized: 1009,
  'oversized-64bit': 1009,
  'oversized-fragments': 1009,
  'bad-utf8': 1007,
  'bad-utf8-fragmented': 1007,
  'reserved-opcode': 1002,
  unmasked: 1002,
  'long-control': 1002,
  'fragmented-control': 1002,
  rsv: 1002,
  'orphan-continuation': 1002,
  'new-message-inside-fragmented': 1002,
} as const satisfies Record<string, number | undefined>;
export type WsEnding = keyof typeof WS_ENDINGS;

const text = (s: string): Buffer => Buffer.from(s, 'utf8');

/** The bytes of a session's last frame(s). */
export function endingFrames(ending: WsEnding, opcodeSeed: number): Buffer[] {
  const big = FUZZ_LIMITS.maxBodyBytes;
  switch (ending) {
    case 'ping-ok':
      return [encodeFrame({ opcode: 1, payload: text('{"type":"ping","ref":"end"}') })];
    case 'client-close':
      return [encodeFrame({ opcode: 8, payload: Buffer.from([0x03, 0xe8]) })];
    case 'binary':
      return [encodeFrame({ opcode: 2, payload: text('{"type":"ping"}') })];
    case 'oversized':
      return [encodeFrame({ opcode: 1, payload: Buffer.alloc(16, 0x20), announcedLength: big + 1 + (opcodeSeed % 100000) })];
    case 'oversized-64bit':
      // A 64-bit length beyond 2^53 (which a JavaScript number cannot hold exactly).
      return [encodeFrame({ opcode: 1, payload: Buffer.alloc(0), announcedLength: [2 ** 32, 2 ** 53, 2 ** 63][opcodeSeed % 3]! })];
    case 'oversized-fragments':
      return [encodeFrame({ opcode: 1, fin: false, payload: Buffer.alloc(big - 10, 0x20) }), encodeFrame({ opcode: 0, payload: Buffer.alloc(20, 0x20) })];
    case 'bad-utf8':
      return [encodeFrame({ opcode: 1, payload: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]) })];
    case 'bad-utf8-fragmented':
      return [encodeFrame({ opcode: 1, fin: false, payload: Buffer.from([0x22, 0xf0, 0x9f]) }), encodeFrame({ opcode: 0, payload: Buffer.from([0x41, 0x22]) })];
    case 'reserved-opcode':
      return [encodeFrame({ opcode: [3, 4, 5, 6, 7, 11, 12, 13, 14, 15][opcodeSeed % 10]!, payload: text('x') })];
    case 'unmasked':
      return [encodeFrame({ opcode: 1, payload: text('{"type":"ping"}'), masked: false })];
    case 'long-control':
      return [encodeFrame({ opcode: 9, payload: Buffer.alloc(126 + (opcodeSeed % 200), 0x61) })];
    case 'fragmented-control':
      return [encodeFrame({ opcode: 9, fin: false, payload: text('p') })];
    case 'rsv':
      return [encodeFrame({ opcode: 1, rsv: 1 + (opcodeSeed % 7), payload: text('{"type":"ping"}') })];
    case 'orphan-continuation':
      return [encodeFrame({ opcode: 0, payload: text('{}') })];
    case 'new-message-inside-fragmented':
      return [encodeFrame({ opcode: 1, fin: false, payload: text('{"ty') }), encodeFrame({ opcode: 1, payload: text('{"type":"ping"}') })];
  }
}

/** A request as one text frame, or fragmented (optionally with a ping between the fragments, which is allowed). */
export function requestFrames(request: string, fragments: number, pingBetween: boolean): Buffer[] {
  const bytes = text(request);
  if (fragments <= 1 || bytes.length < 2) return [encodeFrame({ opcode: 1, payload: bytes })];
  const size = Math.ceil(bytes.length / fragments);
  const specs: FrameSpec[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    specs.push({ opcode: at === 0 ? 1 : 0, fin: at + size >= bytes.length, payload: bytes.subarray(at, at + size) });
  }
  const frames = specs.map((spec) => encodeFrame(spec));
  if (pingBetween && frames.length > 1) frames.splice(1, 0, encodeFrame({ opcode: 9, payload: text('hi') }));
  return frames;
}
