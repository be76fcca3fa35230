import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSseParser, sseControlFrame, sseEventFrame, sseRetryField, type SseMessage } from '../src/index.js';

function collect(maxLineLength?: number): { messages: SseMessage[]; retries: number[]; errors: Error[]; feed(chunks: string[]): void } {
  const messages: SseMessage[] = [];
  const retries: number[] = [];
  const errors: Error[] = [];
  const parser = createSseParser({
    onMessage: (m) => messages.push(m),
    onRetry: (ms) => retries.push(ms),
    onError: (e) => errors.push(e),
    ...(maxLineLength === undefined ? {} : { maxLineLength }),
  });
  return { messages, retries, errors, feed: (chunks) => chunks.forEach((c) => parser.feed(c)) };
}

// What the hub writes: retry + connected, an event, a control frame.
const STREAM =
  sseRetryField(3000) +
  sseControlFrame('{"type":"connected","connectionId":"c","heartbeat":25000,"resumed":false}') +
  sseEventFrame('ab12-1', '{"id":"ab12-1","topic":"t","type":"message","data":"héllo ✓ 😀","timestamp":"x"}') +
  sseControlFrame('{"type":"heartbeat"}');

/** Splits text into chunks at every position set in `cuts`. */
function split(text: string, cuts: number[]): string[] {
  const out: string[] = [];
  let last = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    out.push(text.slice(last, cut));
    last = cut;
  }
  out.push(text.slice(last));
  return out;
}

describe('SSE parser', () => {
  it('parses the hub frames in one chunk', () => {
    const c = collect();
    c.feed([STREAM]);
    assert.deepEqual(c.retries, [3000]);
    assert.equal(c.messages.length, 3);
    assert.equal(c.messages[0]!.lastEventId, '');
    assert.equal(c.messages[1]!.lastEventId, 'ab12-1');
    assert.equal(JSON.parse(c.messages[1]!.data).data, 'héllo ✓ 😀');
    // [spec] the last event id persists: a control frame without id keeps it.
    assert.equal(c.messages[2]!.lastEventId, 'ab12-1');
    assert.equal(c.messages[2]!.event, 'message');
  });

  it('gives the same result for every split into two and three chunks', () => {
    const whole = collect();
    whole.feed([STREAM]);
    for (let i = 0; i <= STREAM.length; i++) {
      const c = collect();
      c.feed(split(STREAM, [i]));
      assert.deepEqual(c.messages, whole.messages, `split at ${i}`);
      for (let j = i; j <= STREAM.length; j += 7) {
        const d = collect();
        d.feed(split(STREAM, [i, j]));
        assert.deepEqual(d.messages, whole.messages, `split at ${i}, ${j}`);
      }
    }
  });

  it('accepts CRLF and CR line ends, also when a CRLF is split between chunks', () => {
    const crlf = STREAM.replaceAll('\n', '\r\n');
    const cr = STREAM.replaceAll('\n', '\r');
    const reference = collect();
    reference.feed([STREAM]);
    for (const text of [crlf, cr]) {
      for (let i = 0; i <= text.length; i++) {
        const c = collect();
        c.feed(split(text, [i]));
        assert.deepEqual(c.messages, reference.messages, `split at ${i}`);
      }
    }
  });

  it('handles one character at a time', () => {
    const c = collect();
    c.feed([...STREAM]);
    assert.equal(c.messages.length, 3);
  });

  it('joins several data lines, ignores comments, unknown fields and a leading BOM, and reads event', () => {
    const c = collect();
    c.feed(['\ufeff: comment\ndata: a\ndata:b\nfoo: bar\nevent: custom\n\ndata\n\n']);
    assert.deepEqual(
      c.messages.map((m) => [m.data, m.event]),
      [
        ['a\nb', 'custom'],
        ['', 'message'],
      ],
    );
  });

  it('does not dispatch a frame without data and ignores a bad retry or an id with NUL', () => {
    const c = collect();
    c.feed(['id: x\n\nretry: 12a\nid: y\0z\ndata: d\n\n']);
    assert.deepEqual(c.retries, []);
    assert.deepEqual(c.messages, [{ data: 'd', lastEventId: 'x', event: 'message' }]);
  });

  it('discards a line over the limit, reports it, and parses what follows', () => {
    const c = collect(20);
    c.feed(['data: ' + 'x'.repeat(10), 'x'.repeat(10), 'x'.repeat(10) + '\n\ndata: ok\n\n']);
    assert.equal(c.errors.length, 1);
    assert.deepEqual(
      c.messages.map((m) => m.data),
      ['ok'],
    );
  });

  it('starts from scratch after reset', () => {
    const messages: SseMessage[] = [];
    const parser = createSseParser({ onMessage: (m) => messages.push(m) });
    parser.feed('id: 1\ndata: half');
    parser.reset();
    parser.feed('data: whole\n\n');
    assert.deepEqual(messages, [{ data: 'whole', lastEventId: '', event: 'message' }]);
  });
  it('treats a CRLF split by an empty chunk as one line end (regression: the empty chunk forgot the CR)', () => {
    const c = collect();
    c.feed(['data: a\r', '', '\ndata: b\r', '', '\n\r\n']);
    assert.deepEqual(c.messages, [{ data: 'a\nb', lastEventId: '', event: 'message' }]);
  });
});
