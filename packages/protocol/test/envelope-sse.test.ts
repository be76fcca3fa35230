import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertEventId,
  assertEventType,
  closeCodeOf,
  CONTROL_TYPES,
  DEFAULT_EVENT_TYPE,
  ERRORS,
  HeraldError,
  isControlType,
  isEnvelope,
  isErrorCode,
  isEventId,
  MAX_ID_LENGTH,
  MAX_TYPE_LENGTH,
  serializeEnvelope,
  sseComment,
  sseControlFrame,
  sseEventFrame,
  ssePositionFrame,
  sseRetryField,
  statusOf,
  type Envelope,
  type ErrorCode,
} from '../src/index.js';

function throwsCode(fn: () => void, code: ErrorCode, label: string): void {
  assert.throws(fn, (error: unknown) => error instanceof HeraldError && error.code === code, `expected ${code} for ${label}`);
}

const show = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 20)}…(${text.length})` : text;
};

describe('assertEventType', () => {
  it('uses message as the default type and 64 as the limit', () => {
    assert.equal(DEFAULT_EVENT_TYPE, 'message');
    assert.doesNotThrow(() => assertEventType(DEFAULT_EVENT_TYPE));
    assert.equal(MAX_TYPE_LENGTH, 64);
  });

  const VALID: readonly string[] = [
    'a',
    'create',
    'order.created',
    'ns:event',
    'snake_case',
    'kebab-case',
    'CamelCase09',
    '-_.:',
    't'.repeat(64),
    'messages',
    'Connected', // control names are case-sensitive
    'error2',
    'x.reset',
  ];
  for (const type of VALID) {
    it(`accepts ${show(type)}`, () => {
      assert.doesNotThrow(() => assertEventType(type));
    });
  }

  const INVALID: ReadonlyArray<[label: string, value: unknown]> = [
    ['empty', ''],
    ['65 characters', 't'.repeat(65)],
    ['space', 'a b'],
    ['slash', 'a/b'],
    ['CR', 'a\rb'],
    ['LF', 'a\nb'],
    ['NUL', 'a\0b'],
    ['tilde', 'a~b'],
    ['at', 'a@b'],
    ['plus', 'a+b'],
    ['equals', 'a=b'],
    ['unicode', 'caf\u00e9'],
    ['number', 1],
    ['null', null],
    ['undefined', undefined],
    ['object', {}],
  ];
  for (const [label, value] of INVALID) {
    it(`rejects ${label} with invalid_type`, () => {
      throwsCode(() => assertEventType(value), 'invalid_type', label);
    });
  }

  it('reserves the name of every control message', () => {
    assert.deepEqual(
      [...CONTROL_TYPES],
      ['connected', 'heartbeat', 'reset', 'error', 'subscribed', 'unsubscribed', 'pong', 'published', 'refreshed', 'paused', 'resumed'],
    );
    for (const name of CONTROL_TYPES) {
      throwsCode(() => assertEventType(name), 'reserved_type', name);
      assert.equal(isControlType(name), true, name);
    }
    assert.equal(isControlType('message'), false);
    assert.equal(isControlType('Connected'), false);
  });
});

describe('assertEventId and isEventId', () => {
  it('has a 128-character limit', () => {
    assert.equal(MAX_ID_LENGTH, 128);
  });

  const VALID: readonly string[] = ['a', '1', 'abc123-42', 'orders/42/created', 'A-Za-z_0.9:~@=+/', 'i'.repeat(128), `${'a/'.repeat(63)}bc`];
  for (const id of VALID) {
    it(`accepts ${show(id)}`, () => {
      assert.doesNotThrow(() => assertEventId(id));
      assert.equal(isEventId(id), true);
    });
  }

  const INVALID: ReadonlyArray<[label: string, value: unknown]> = [
    ['empty', ''],
    ['129 characters', 'i'.repeat(129)],
    ['CR', 'a\rb'],
    ['LF', 'a\nb'],
    ['CRLF injection', '1\r\ndata: evil'],
    ['NUL', 'a\0b'],
    ['space', 'a b'],
    ['leading space', ' a'],
    ['tab', 'a\tb'],
    ['unicode', '\u00e9'],
    ['comma', 'a,b'],
    ['hash', 'a#b'],
    ['number', 42],
    ['null', null],
    ['undefined', undefined],
    ['array', ['a']],
  ];
  for (const [label, value] of INVALID) {
    it(`rejects ${label} with invalid_id`, () => {
      throwsCode(() => assertEventId(value), 'invalid_id', label);
      assert.equal(isEventId(value), false);
    });
  }
});

describe('isEnvelope', () => {
  const CASES: ReadonlyArray<[label: string, value: unknown, expected: boolean]> = [
    ['an event', { id: 'e-1', topic: 't', type: 'message', data: null, timestamp: '2024-01-01T00:00:00.000Z' }, true],
    ['only id and topic', { id: 'e-1', topic: 't' }, true],
    ['connected', { type: 'connected', connectionId: 'c', heartbeat: 25000, resumed: false }, false],
    ['reset (topic, no id)', { type: 'reset', topic: 't', reason: 'expired' }, false],
    ['published (id, no topic)', { type: 'published', id: 'e-1', duplicate: false }, false],
    ['numeric id', { id: 1, topic: 't' }, false],
    ['null topic', { id: 'e-1', topic: null }, false],
    ['null', null, false],
    ['string', 'e-1', false],
    ['number', 1, false],
    ['undefined', undefined, false],
  ];
  for (const [label, value, expected] of CASES) {
    it(`${label} → ${expected}`, () => {
      assert.equal(isEnvelope(value), expected);
    });
  }
});

describe('serializeEnvelope', () => {
  it('writes id, topic, type, data, timestamp in that order whatever the input order', () => {
    const envelope = {
      timestamp: '2024-05-06T07:08:09.010Z',
      data: { z: 1, a: [true, null] },
      type: 'create',
      topic: 'board/1',
      id: 'abc-7',
    } satisfies Envelope;
    const text = serializeEnvelope(envelope);
    assert.equal(text, '{"id":"abc-7","topic":"board/1","type":"create","data":{"z":1,"a":[true,null]},"timestamp":"2024-05-06T07:08:09.010Z"}');
    assert.deepEqual(Object.keys(JSON.parse(text) as object), ['id', 'topic', 'type', 'data', 'timestamp']);
  });

  it('drops extra fields and keeps null data', () => {
    const envelope = { id: 'x', topic: 't', type: 'message', data: null, timestamp: 'T', extra: 1 } as Envelope;
    assert.equal(serializeEnvelope(envelope), '{"id":"x","topic":"t","type":"message","data":null,"timestamp":"T"}');
  });

  it('escapes line breaks in data so the JSON is one line', () => {
    const text = serializeEnvelope({ id: 'x', topic: 't', type: 'm', data: 'a\r\nb', timestamp: 'T' });
    assert.equal(/[\r\n]/.test(text), false);
    assert.equal(text, '{"id":"x","topic":"t","type":"m","data":"a\\r\\nb","timestamp":"T"}');
  });

  it('gives the bytes JSON.stringify gives, with or without data serialized beforehand', () => {
    const tricky = ['"quoted" \\ back', 'line\u2028sep', 'emoji \u{1F600}', 'lone \ud800 surrogate', '\u0000\u001f control', 'é ü 中'];
    const datas: unknown[] = [null, 0, -1.5e-7, 1e21, true, '', ...tricky, [1, 'two', { three: [null] }], { nested: { deep: tricky } }];
    for (const data of datas) {
      for (const text of tricky) {
        const envelope: Envelope = { id: `id ${text}`, topic: `t/${text}`, type: text, data, timestamp: text };
        const expected = JSON.stringify({ id: envelope.id, topic: envelope.topic, type: envelope.type, data, timestamp: envelope.timestamp });
        assert.equal(serializeEnvelope(envelope), expected);
        assert.equal(serializeEnvelope(envelope, JSON.stringify(data)), expected);
      }
    }
  });

  it('writes data that serializes to nothing as null, so every envelope carries data', () => {
    for (const data of [undefined, () => 1]) {
      const text = serializeEnvelope({ id: 'x', topic: 't', type: 'm', data, timestamp: 'T' });
      assert.equal(text, '{"id":"x","topic":"t","type":"m","data":null,"timestamp":"T"}');
    }
  });
});

describe('SSE framing', () => {
  it('sseEventFrame: id line, one data line, blank line', () => {
    assert.equal(sseEventFrame('abc-1', '{"a":1}'), 'id: abc-1\ndata: {"a":1}\n\n');
    assert.equal(sseEventFrame('orders/42', 'null'), 'id: orders/42\ndata: null\n\n');
  });

  it('sseEventFrame with a serialized envelope', () => {
    const envelope: Envelope = { id: 'e-2', topic: 'a/b', type: 'message', data: 'x', timestamp: 'T' };
    assert.equal(
      sseEventFrame(envelope.id, serializeEnvelope(envelope)),
      'id: e-2\ndata: {"id":"e-2","topic":"a/b","type":"message","data":"x","timestamp":"T"}\n\n',
    );
  });

  it('sseControlFrame: no id line', () => {
    assert.equal(sseControlFrame('{"type":"heartbeat"}'), 'data: {"type":"heartbeat"}\n\n');
  });

  it('ssePositionFrame: an id line carrying the position, then the data line; none without a position', () => {
    const json = '{"type":"connected","connectionId":"c","heartbeat":1,"resumed":false,"lastEventId":"0123456789-0"}';
    assert.equal(ssePositionFrame('0123456789-0', json), `id: 0123456789-0\ndata: ${json}\n\n`);
    assert.equal(ssePositionFrame(undefined, json), sseControlFrame(json));
  });

  it('sseRetryField: integer milliseconds, never negative', () => {
    assert.equal(sseRetryField(3000), 'retry: 3000\n');
    assert.equal(sseRetryField(0), 'retry: 0\n');
    assert.equal(sseRetryField(1500.9), 'retry: 1500\n');
    assert.equal(sseRetryField(-5), 'retry: 0\n');
  });

  it('sseComment: one comment line with line breaks neutralised', () => {
    assert.equal(sseComment('hi'), ': hi\n\n');
    assert.equal(sseComment('a\r\nb\0c'), ': a  b c\n\n');
  });
});

describe('error catalog', () => {
  const codes = Object.keys(ERRORS) as ErrorCode[];

  it('gives every code an HTTP error status and a message', () => {
    assert.ok(codes.length > 0);
    for (const code of codes) {
      const status = statusOf(code);
      assert.ok(Number.isInteger(status) && status >= 400 && status <= 599, `${code}: ${status}`);
      assert.equal(status, ERRORS[code].status);
      assert.equal(typeof ERRORS[code].message, 'string');
      assert.ok(ERRORS[code].message.length > 0, code);
      assert.equal(isErrorCode(code), true, code);
    }
  });

  it('maps the documented statuses', () => {
    const expected: Partial<Record<ErrorCode, number>> = {
      invalid_json: 400,
      invalid_request: 400,
      invalid_topic: 400,
      reserved_type: 400,
      invalid_since: 400,
      event_too_large: 413,
      payload_too_large: 413,
      unsupported_media_type: 415,
      not_found: 404,
      method_not_allowed: 405,
      upgrade_required: 426,
      too_many_connections: 503,
      shutting_down: 503,
      broker_unavailable: 503,
      internal_error: 500,
    };
    for (const [code, status] of Object.entries(expected) as Array<[ErrorCode, number]>) {
      assert.equal(statusOf(code), status, code);
    }
  });

  it('closeCodeOf: the catalog close code, undefined for errors that only get reported', () => {
    for (const code of codes) {
      const entry = ERRORS[code];
      assert.equal(closeCodeOf(code), 'close' in entry ? entry.close : undefined, code);
      const close = closeCodeOf(code);
      if (close !== undefined) {
        assert.ok((close >= 1000 && close <= 1014 && close !== 1005 && close !== 1006) || (close >= 4000 && close <= 4999), `${code}: ${close}`);
      }
    }
    const closing: Partial<Record<ErrorCode, number>> = {
      unsupported_data: 1003,
      frame_too_large: 1009,
      slow_consumer: 4009,
      shutting_down: 1012,
      internal_error: 1011,
      // Ends a WebSocket whose URL `since` cannot be read; "try again later".
      broker_unavailable: 1013,
    };
    for (const [code, close] of Object.entries(closing) as Array<[ErrorCode, number]>) {
      assert.equal(closeCodeOf(code), close, code);
    }
    for (const code of ['invalid_json', 'invalid_request', 'invalid_topic', 'reserved_type', 'invalid_id', 'not_found', 'outcome_unknown'] as const) {
      assert.equal(closeCodeOf(code), undefined, code);
    }
  });

  it('isErrorCode rejects anything else', () => {
    for (const value of ['nope', '', 'toString', '__proto__', 'hasOwnProperty', 400, null, undefined]) {
      assert.equal(isErrorCode(value), false, String(value));
    }
  });

  it('HeraldError carries its code, a default message from the catalog, and toBody', () => {
    const error = new HeraldError('invalid_topic');
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'HeraldError');
    assert.equal(error.code, 'invalid_topic');
    assert.equal(error.message, ERRORS.invalid_topic.message);
    assert.deepEqual(error.toBody(), { error: { code: 'invalid_topic', message: ERRORS.invalid_topic.message } });

    const custom = new HeraldError('event_too_large', 'too big: 70000 bytes');
    assert.equal(custom.message, 'too big: 70000 bytes');
    const body = custom.toBody();
    assert.deepEqual(body, { error: { code: 'event_too_large', message: 'too big: 70000 bytes' } });
    assert.deepEqual(Object.keys(body), ['error']);
    assert.deepEqual(Object.keys(body.error), ['code', 'message']);
    assert.equal(JSON.stringify(body), '{"error":{"code":"event_too_large","message":"too big: 70000 bytes"}}');
  });

  it('every code round-trips through HeraldError.toBody', () => {
    for (const code of codes) {
      const body = new HeraldError(code).toBody();
      assert.equal(body.error.code, code);
      assert.equal(body.error.message, ERRORS[code].message);
    }
  });
});
