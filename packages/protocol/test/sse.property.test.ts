import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  assertEventId,
  createSseParser,
  HeraldError,
  isEventId,
  serializeEnvelope,
  sseComment,
  sseControlFrame,
  sseEventFrame,
  sseRetryField,
  type SseMessage,
} from '../src/index.js';
import { checkProperty } from './property.js';

interface Parsed {
  messages: SseMessage[];
  retries: number[];
}

/**
 * Reference interpretation of a whole event stream, written from the WHATWG
 * "event stream interpretation" (no chunks): one leading BOM is skipped, lines end
 * at CRLF, LF or CR, an unterminated last line is not processed, and lines longer
 * than `maxLine` are dropped (the parser's documented limit).
 */
function referenceParse(stream: string, maxLine = Infinity): Parsed {
  const parsed: Parsed = { messages: [], retries: [] };
  const text = stream.charCodeAt(0) === 0xfeff ? stream.slice(1) : stream;
  const lines = text.split(/\r\n|\r|\n/);
  lines.pop(); // [spec] the part after the last terminator is not a line yet
  let data: string[] = [];
  let event = '';
  let lastEventId = '';
  for (const line of lines) {
    if (line.length > maxLine) continue;
    if (line === '') {
      if (data.length > 0) parsed.messages.push({ data: data.join('\n'), lastEventId, event: event === '' ? 'message' : event });
      data = [];
      event = '';
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\0')) lastEventId = value;
    else if (field === 'retry' && value !== '' && [...value].every((c) => c >= '0' && c <= '9')) parsed.retries.push(Number(value));
  }
  return parsed;
}

/** Feeds the stream's UTF-8 bytes, cut at `cuts` (duplicates give empty chunks), through a streaming TextDecoder. */
function parseBytes(stream: string, cuts: readonly number[], maxLineLength?: number): Parsed {
  const parsed: Parsed = { messages: [], retries: [] };
  const parser = createSseParser({
    onMessage: (message) => parsed.messages.push(message),
    onRetry: (ms) => parsed.retries.push(ms),
    ...(maxLineLength === undefined ? {} : { maxLineLength }),
  });
  const bytes = new TextEncoder().encode(stream);
  // ignoreBOM: pass a BOM through to the parser, which must skip it itself.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let last = 0;
  for (const cut of [...cuts.map((c) => c % (bytes.length + 1))].sort((a, b) => a - b)) {
    parser.feed(decoder.decode(bytes.subarray(last, cut), { stream: true }));
    last = cut;
  }
  parser.feed(decoder.decode(bytes.subarray(last)));
  return parsed;
}

/** Feeds the text cut at UTF-16 positions, which may split a surrogate pair or a CRLF. */
function parseText(stream: string, cuts: readonly number[]): Parsed {
  const parsed: Parsed = { messages: [], retries: [] };
  const parser = createSseParser({ onMessage: (m) => parsed.messages.push(m), onRetry: (ms) => parsed.retries.push(ms) });
  let last = 0;
  for (const cut of [...cuts.map((c) => c % (stream.length + 1))].sort((a, b) => a - b)) {
    parser.feed(stream.slice(last, cut));
    last = cut;
  }
  parser.feed(stream.slice(last));
  return parsed;
}

const unicodeTextArb = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.string({ maxLength: 12 }),
  fc.constantFrom('é', '✓', '😀', '\u2028', '\r\n', '\0', '\ufeff'),
);
const jsonArb = fc
  .oneof(fc.jsonValue({ maxDepth: 2, stringUnit: 'binary' }), fc.dictionary(unicodeTextArb, unicodeTextArb, { maxKeys: 3 }), unicodeTextArb)
  .map((value) => JSON.stringify(value));
const eventIdArb = fc.stringMatching(/^[A-Za-z0-9_\-.:~@=+/]{1,20}$/);

type Frame =
  { kind: 'event'; id: string; json: string } | { kind: 'control'; json: string } | { kind: 'comment'; text: string } | { kind: 'retry'; ms: number };
const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({ kind: fc.constant('event' as const), id: eventIdArb, json: jsonArb }),
  fc.record({ kind: fc.constant('control' as const), json: jsonArb }),
  fc.record({ kind: fc.constant('comment' as const), text: unicodeTextArb }),
  fc.record({ kind: fc.constant('retry' as const), ms: fc.integer({ min: -5, max: 2 ** 31 }) }),
);

function encode(frame: Frame): string {
  if (frame.kind === 'event') return sseEventFrame(frame.id, frame.json);
  if (frame.kind === 'control') return sseControlFrame(frame.json);
  if (frame.kind === 'comment') return sseComment(frame.text);
  return sseRetryField(frame.ms);
}

/** What a subscriber must see for the frames the hub wrote. */
function expected(frames: readonly Frame[]): Parsed {
  const parsed: Parsed = { messages: [], retries: [] };
  let lastEventId = '';
  for (const frame of frames) {
    if (frame.kind === 'event') lastEventId = frame.id;
    if (frame.kind === 'event' || frame.kind === 'control') parsed.messages.push({ data: frame.json, lastEventId, event: 'message' });
    if (frame.kind === 'retry') parsed.retries.push(Math.max(0, frame.ms));
  }
  return parsed;
}

/** Rewrites the hub's LF terminators as a proxy might: all CRLF, all CR, or LF and CRLF mixed. */
function withLineEnds(stream: string, style: 'lf' | 'crlf' | 'cr' | 'mixed', picks: readonly boolean[]): string {
  if (style === 'lf') return stream;
  let n = 0;
  return stream.replace(/\n/g, () => (style === 'crlf' ? '\r\n' : style === 'cr' ? '\r' : picks[n++ % Math.max(1, picks.length)] ? '\r\n' : '\n'));
}

const cutsArb = fc.array(fc.nat(), { maxLength: 12 });
const styleArb = fc.constantFrom('lf' as const, 'crlf' as const, 'cr' as const, 'mixed' as const);

describe('SSE encoder and parser properties', () => {
  it('hub frames split anywhere in their UTF-8 bytes, with any line-end style, parse to the same messages', () => {
    checkProperty(
      fc.property(
        fc.array(frameArb, { maxLength: 8 }),
        fc.boolean(),
        styleArb,
        fc.array(fc.boolean(), { minLength: 1 }),
        cutsArb,
        (frames, bom, style, picks, cuts) => {
          const stream = (bom ? '\ufeff' : '') + withLineEnds(frames.map(encode).join(''), style, picks);
          assert.deepEqual(parseBytes(stream, cuts), expected(frames));
        },
      ),
      800,
    );
  });

  it('hub frames split at any UTF-16 position (inside surrogate pairs and CRLF pairs) parse to the same messages', () => {
    checkProperty(
      fc.property(fc.array(frameArb, { maxLength: 8 }), styleArb, cutsArb, (frames, style, cuts) => {
        const stream = withLineEnds(frames.map(encode).join(''), style, [true, false]);
        assert.deepEqual(parseText(stream, cuts), expected(frames));
      }),
      800,
    );
  });

  it('any stream, chunked anyhow, parses like the whole-stream reference interpretation', () => {
    const pieceArb = fc.constantFrom('data', 'id', 'event', 'retry', ':', ': ', ' ', 'x', '7', 'é', '😀', '\0', '\ufeff', '\r', '\n', '\r\n', '\n\n');
    checkProperty(
      fc.property(
        fc.array(pieceArb, { maxLength: 40 }).map((p) => p.join('')),
        cutsArb,
        (stream, cuts) => {
          const reference = referenceParse(stream);
          assert.deepEqual(parseBytes(stream, cuts), reference, JSON.stringify(stream));
          assert.deepEqual(parseText(stream, cuts), reference, JSON.stringify(stream));
        },
      ),
      1500,
    );
  });

  it('lines over maxLineLength are dropped wherever the chunks fall, and the rest still parses', () => {
    const lineArb = fc.oneof(
      fc.string({ unit: fc.constantFrom('a', 'é', '😀', ':', ' '), maxLength: 30 }).map((v) => `data: ${v}`),
      eventIdArb.map((id) => `id: ${id}`),
      fc.constant(''),
    );
    checkProperty(
      fc.property(fc.array(lineArb, { maxLength: 12 }), fc.integer({ min: 1, max: 24 }), cutsArb, (lines, maxLine, cuts) => {
        const stream = lines.map((line) => `${line}\n`).join('');
        assert.deepEqual(parseBytes(stream, cuts, maxLine), referenceParse(stream, maxLine));
      }),
      800,
    );
  });

  it('a comment cannot inject a field: any text becomes one ignored comment line', () => {
    checkProperty(
      fc.property(fc.string({ unit: fc.constantFrom('\r', '\n', '\0', 'data: x', 'id: 1', 'retry: 5', 'é', ' '), maxLength: 10 }), unicodeTextArb, (a, b) => {
        const text = a + b;
        const comment = sseComment(text);
        assert.equal(comment.replace(/\n\n$/, '').search(/[\r\n\0]/), -1, 'one line, no CR, LF or NUL before its end');
        assert.deepEqual(parseBytes(comment + sseControlFrame('1'), []), { messages: [{ data: '1', lastEventId: '', event: 'message' }], retries: [] });
      }),
      500,
    );
  });

  it('an id with CR, LF or NUL is never a valid event id; every valid id survives the id: line exactly', () => {
    checkProperty(
      fc.property(fc.oneof(eventIdArb, fc.string({ unit: fc.constantFrom('a', '-', '\r', '\n', '\0', ' ', 'é', '/'), minLength: 1, maxLength: 10 })), (id) => {
        if (/[\r\n\0]/.test(id)) {
          assert.equal(isEventId(id), false, 'isEventId');
          assert.throws(
            () => assertEventId(id),
            (error: unknown) => error instanceof HeraldError && error.code === 'invalid_id',
          );
          return;
        }
        if (!isEventId(id)) return;
        assert.deepEqual(parseBytes(sseEventFrame(id, '{}'), []).messages, [{ data: '{}', lastEventId: id, event: 'message' }]);
      }),
      500,
    );
  });

  it('an envelope with any strings and data is one data: line and parses back to itself', () => {
    checkProperty(
      fc.property(unicodeTextArb, unicodeTextArb, fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }), eventIdArb, (topic, type, data, id) => {
        const envelope = { id, topic, type, data: JSON.parse(JSON.stringify(data)) as unknown, timestamp: '2026-01-01T00:00:00.000Z' };
        const json = serializeEnvelope(envelope);
        assert.equal(json.search(/[\r\n]/), -1, 'no raw CR or LF in the JSON');
        const [message, ...rest] = parseBytes(sseEventFrame(id, json), [json.length >> 1]).messages;
        assert.equal(rest.length, 0, 'exactly one message');
        assert.deepEqual(JSON.parse(message!.data), envelope);
      }),
      500,
    );
  });
});
