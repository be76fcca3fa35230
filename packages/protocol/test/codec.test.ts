import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CONTROL_TYPES,
  decodeClientMessage,
  encodeControl,
  HeraldError,
  type ClientMessage,
  type ControlMessage,
  type DecodeResult,
  type ErrorCode,
  type Ref,
} from '../src/index.js';

const json = (value: unknown): string => JSON.stringify(value);

function expectOk(result: DecodeResult): ClientMessage {
  if (!result.ok) assert.fail(`expected ok, got ${result.error.code}: ${result.error.message}`);
  return result.message;
}

function expectError(result: DecodeResult, code: ErrorCode, ref?: Ref): HeraldError {
  if (result.ok) assert.fail(`expected ${code}, got ok: ${json(result.message)}`);
  assert.ok(result.error instanceof HeraldError);
  assert.equal(result.error.code, code, result.error.message);
  if (ref === undefined) assert.equal('ref' in result, false, 'no ref on the result');
  else assert.equal(result.ref, ref);
  return result.error;
}

describe('decodeClientMessage: valid messages', () => {
  const VALID: ReadonlyArray<[label: string, text: string, expected: ClientMessage]> = [
    ['ping', json({ type: 'ping' }), { type: 'ping' }],
    ['ping with numeric ref', json({ type: 'ping', ref: 7 }), { type: 'ping', ref: 7 }],
    ['ping with ref 0', json({ type: 'ping', ref: 0 }), { type: 'ping', ref: 0 }],
    ['ping with string ref', json({ type: 'ping', ref: 'abc' }), { type: 'ping', ref: 'abc' }],
    ['ping with 64-character ref', json({ type: 'ping', ref: 'r'.repeat(64) }), { type: 'ping', ref: 'r'.repeat(64) }],
    ['subscribe', json({ type: 'subscribe', topics: ['a/b'] }), { type: 'subscribe', topics: ['a/b'] }],
    [
      'subscribe with wildcards and ref',
      json({ type: 'subscribe', topics: ['a/*', 'b/**', '**'], ref: 1 }),
      { type: 'subscribe', topics: ['a/*', 'b/**', '**'], ref: 1 },
    ],
    ['subscribe with since', json({ type: 'subscribe', topics: ['a'], since: 'abc123-42' }), { type: 'subscribe', topics: ['a'], since: 'abc123-42' }],
    [
      'subscribe with since and ref',
      json({ type: 'subscribe', topics: ['a'], since: 'orders/42/created', ref: 'x' }),
      { type: 'subscribe', topics: ['a'], since: 'orders/42/created', ref: 'x' },
    ],
    ['subscribe with since null', json({ type: 'subscribe', topics: ['a'], since: null }), { type: 'subscribe', topics: ['a'] }],
    [
      'subscribe with duplicate topics de-duplicated in order',
      json({ type: 'subscribe', topics: ['b', 'a', 'b', 'a/**', 'a', 'a/**'] }),
      { type: 'subscribe', topics: ['b', 'a', 'a/**'] },
    ],
    ['unsubscribe', json({ type: 'unsubscribe', topics: ['a/b'] }), { type: 'unsubscribe', topics: ['a/b'] }],
    ['unsubscribe with ref and duplicates', json({ type: 'unsubscribe', topics: ['x/*', 'x/*'], ref: 3 }), { type: 'unsubscribe', topics: ['x/*'], ref: 3 }],
    [
      'publish with event defaulting to message',
      json({ type: 'publish', topic: 'chat/1', data: { text: 'hi' } }),
      { type: 'publish', topic: 'chat/1', event: 'message', data: { text: 'hi' } },
    ],
    [
      'publish with event null defaulting to message',
      json({ type: 'publish', topic: 'chat/1', event: null, data: 1 }),
      { type: 'publish', topic: 'chat/1', event: 'message', data: 1 },
    ],
    [
      'publish with event, id and ref',
      json({ type: 'publish', topic: 'chat/1', event: 'said', data: [1, 2], id: 'm-1', ref: 9 }),
      { type: 'publish', topic: 'chat/1', event: 'said', data: [1, 2], id: 'm-1', ref: 9 },
    ],
    ['publish with null data', json({ type: 'publish', topic: 't', data: null }), { type: 'publish', topic: 't', event: 'message', data: null }],
    [
      'publish with string data containing a newline',
      json({ type: 'publish', topic: 't', data: 'line\nbreak' }),
      { type: 'publish', topic: 't', event: 'message', data: 'line\nbreak' },
    ],
    ['publish with false data', json({ type: 'publish', topic: 't', data: false }), { type: 'publish', topic: 't', event: 'message', data: false }],
  ];

  for (const [label, text, expected] of VALID) {
    it(label, () => {
      assert.deepEqual(expectOk(decodeClientMessage(text)), expected);
    });
  }

  it('omits ref, since and id entirely when absent (no undefined keys)', () => {
    for (const text of [
      json({ type: 'ping' }),
      json({ type: 'subscribe', topics: ['a'] }),
      json({ type: 'subscribe', topics: ['a'], since: null }),
      json({ type: 'unsubscribe', topics: ['a'] }),
      json({ type: 'publish', topic: 'a', data: 1 }),
    ]) {
      const message = expectOk(decodeClientMessage(text));
      for (const key of ['ref', 'since', 'id']) assert.equal(Object.hasOwn(message, key), false, `${key} in ${text}`);
    }
  });

  it('keeps the publish data value as given, including nested objects', () => {
    const data = { a: [1, { b: null }], c: 'ünïcödé', d: 1.5 };
    const message = expectOk(decodeClientMessage(json({ type: 'publish', topic: 'x', data })));
    assert.equal(message.type, 'publish');
    assert.deepEqual(message.type === 'publish' ? message.data : undefined, data);
  });
});

describe('decodeClientMessage: forward compatibility', () => {
  // Issue 12: a client library added `timestamp` to its pings and every one was refused.
  it('accepts a ping with a timestamp and ignores the field', () => {
    assert.deepEqual(expectOk(decodeClientMessage(json({ type: 'ping', timestamp: 1 }))), { type: 'ping' });
  });

  it('ignores unknown fields on every message type, keeping the known ones', () => {
    assert.deepEqual(expectOk(decodeClientMessage(json({ type: 'ping', extra: 1, ref: 2 }))), { type: 'ping', ref: 2 });
    assert.deepEqual(expectOk(decodeClientMessage(json({ type: 'subscribe', topics: ['a'], topic: 'b', priority: 'high' }))), {
      type: 'subscribe',
      topics: ['a'],
    });
    assert.deepEqual(expectOk(decodeClientMessage(json({ type: 'unsubscribe', topics: ['a'], since: 'x' }))), { type: 'unsubscribe', topics: ['a'] });
    assert.deepEqual(expectOk(decodeClientMessage(json({ type: 'publish', topic: 'a', data: 1, type2: 'x', ref: 'p' }))), {
      type: 'publish',
      topic: 'a',
      event: 'message',
      data: 1,
      ref: 'p',
    });
    assert.deepEqual(expectOk(decodeClientMessage(json({ type: 'refresh', token: 't', device: 'phone' }))), { type: 'refresh', token: 't' });
  });
});

describe('decodeClientMessage: errors', () => {
  const INVALID: ReadonlyArray<[label: string, text: string, code: ErrorCode, ref?: Ref]> = [
    ['invalid JSON', '{"type":', 'invalid_json'],
    ['empty frame', '', 'invalid_json'],
    ['trailing garbage', '{"type":"ping"} x', 'invalid_json'],
    ['JSON string', json('ping'), 'invalid_request'],
    ['JSON number', '42', 'invalid_request'],
    ['JSON null', 'null', 'invalid_request'],
    ['JSON true', 'true', 'invalid_request'],
    ['JSON array', json([{ type: 'ping' }]), 'invalid_request'],
    ['missing type', json({ topics: ['a'] }), 'invalid_request'],
    ['unknown type', json({ type: 'hello' }), 'invalid_request'],
    ['unknown type with ref', json({ type: 'hello', ref: 5 }), 'invalid_request', 5],
    ['type inherited from Object.prototype', json({ type: 'toString' }), 'invalid_request'],
    ['type constructor', json({ type: 'constructor', ref: 'c' }), 'invalid_request', 'c'],
    ['numeric type', json({ type: 1 }), 'invalid_request'],
    ['ref too long', json({ type: 'ping', ref: 'r'.repeat(65) }), 'invalid_request'],
    ['ref object', json({ type: 'ping', ref: { a: 1 } }), 'invalid_request'],
    ['ref boolean', json({ type: 'ping', ref: true }), 'invalid_request'],
    ['subscribe without topics', json({ type: 'subscribe', ref: 1 }), 'invalid_request', 1],
    ['subscribe with empty topics', json({ type: 'subscribe', topics: [], ref: 1 }), 'invalid_request', 1],
    ['subscribe with topics string', json({ type: 'subscribe', topics: 'a' }), 'invalid_request'],
    ['subscribe with bad topic', json({ type: 'subscribe', topics: ['ok', 'a//b'], ref: 11 }), 'invalid_topic', 11],
    ['subscribe with bad topic and string ref', json({ type: 'subscribe', topics: ['a b'], ref: 'sub-1' }), 'invalid_topic', 'sub-1'],
    ['subscribe with non-string topic', json({ type: 'subscribe', topics: [1], ref: 4 }), 'invalid_topic', 4],
    ['subscribe with ** not last', json({ type: 'subscribe', topics: ['**/a'] }), 'invalid_topic'],
    ['unsubscribe with bad topic', json({ type: 'unsubscribe', topics: ['../x'], ref: 12 }), 'invalid_topic', 12],
    ['subscribe with bad since (CRLF)', json({ type: 'subscribe', topics: ['a'], since: 'x\r\ny', ref: 6 }), 'invalid_since', 6],
    ['subscribe with empty since', json({ type: 'subscribe', topics: ['a'], since: '' }), 'invalid_since'],
    ['subscribe with numeric since', json({ type: 'subscribe', topics: ['a'], since: 42 }), 'invalid_since'],
    ['subscribe with too long since', json({ type: 'subscribe', topics: ['a'], since: 's'.repeat(129) }), 'invalid_since'],
    ['publish to wildcard topic', json({ type: 'publish', topic: 'a/*', data: 1, ref: 8 }), 'invalid_topic', 8],
    ['publish without topic', json({ type: 'publish', data: 1 }), 'invalid_topic'],
    ['publish without data', json({ type: 'publish', topic: 'a', ref: 13 }), 'invalid_request', 13],
    ['publish with bad event type', json({ type: 'publish', topic: 'a', event: 'has space', data: 1 }), 'invalid_type'],
    ['publish with empty event type', json({ type: 'publish', topic: 'a', event: '', data: 1 }), 'invalid_type'],
    ['publish with numeric event type', json({ type: 'publish', topic: 'a', event: 5, data: 1 }), 'invalid_type'],
    ['publish with bad id (CRLF)', json({ type: 'publish', topic: 'a', data: 1, id: 'a\r\nb', ref: 14 }), 'invalid_id', 14],
    ['publish with id containing LF', json({ type: 'publish', topic: 'a', data: 1, id: 'a\nid: evil' }), 'invalid_id'],
    ['publish with id containing NUL', json({ type: 'publish', topic: 'a', data: 1, id: 'a\0b' }), 'invalid_id'],
    ['publish with empty id', json({ type: 'publish', topic: 'a', data: 1, id: '' }), 'invalid_id'],
    ['publish with numeric id', json({ type: 'publish', topic: 'a', data: 1, id: 5 }), 'invalid_id'],
  ];

  for (const [label, text, code, ref] of INVALID) {
    it(`${label} → ${code}${ref === undefined ? '' : ` with ref ${json(ref)}`}`, () => {
      expectError(decodeClientMessage(text), code, ref);
    });
  }

  for (const reserved of CONTROL_TYPES) {
    it(`publish with reserved event type ${reserved} → reserved_type`, () => {
      const error = expectError(decodeClientMessage(json({ type: 'publish', topic: 'a', event: reserved, data: 1, ref: 'r' })), 'reserved_type', 'r');
      assert.match(error.message, new RegExp(reserved));
    });
  }

  it('still validates a known field next to unknown ones', () => {
    expectError(decodeClientMessage(json({ type: 'ping', timestamp: 1, ref: true })), 'invalid_request');
    expectError(decodeClientMessage(json({ type: 'subscribe', topics: ['a//b'], extra: 1, ref: 3 })), 'invalid_topic', 3);
  });

  it('checks the topics field before since', () => {
    expectError(decodeClientMessage(json({ type: 'subscribe', topics: ['a//b'], since: 'x\ny' })), 'invalid_topic');
  });

  it('never throws, whatever the input', () => {
    for (const text of ['\u0000', '{', '[]', '{}', '{"__proto__":{"type":"ping"}}', '"\\ud800"', '1e999', '{"type":"ping","ref":1e999}']) {
      assert.doesNotThrow(() => decodeClientMessage(text), text);
      assert.equal(decodeClientMessage(text).ok, false, text);
    }
  });
});

describe('encodeControl', () => {
  it('encodes a control message as its JSON', () => {
    const messages: ControlMessage[] = [
      { type: 'heartbeat' },
      { type: 'pong', ref: 3 },
      { type: 'reset', topic: 'a', reason: 'expired' },
      { type: 'published', ref: 'x', id: 'e-1', duplicate: false },
    ];
    assert.deepEqual(messages.map(encodeControl), [
      '{"type":"heartbeat"}',
      '{"type":"pong","ref":3}',
      '{"type":"reset","topic":"a","reason":"expired"}',
      '{"type":"published","ref":"x","id":"e-1","duplicate":false}',
    ]);
  });
});
