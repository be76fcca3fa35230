import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CONTROL_TYPES, decodeHubMessage, encodeControl, serializeEnvelope, type ControlMessage, type Envelope } from '../src/index.js';

/** The JSON examples of section 4 of docs/protocol.md, one message per line. */
function documentedExamples(): unknown[] {
  const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('\n## 4. Control messages\n'), doc.indexOf('\n## 5. '));
  const block = /```json\n([\s\S]+?)\n```/.exec(section)?.[1];
  assert.ok(block !== undefined, 'section 4 has a JSON example block');
  return block.split('\n').map((line) => JSON.parse(line) as unknown);
}

const EVENT: Envelope = { id: '52fafd7ea7-2', topic: 'orders/42', type: 'message', data: { n: 2 }, timestamp: '2026-11-23T02:39:58.303Z' };

/** One valid message of every control type, as the hub encodes them. */
const CONTROLS: ControlMessage[] = [
  { type: 'connected', connectionId: 'c-1', heartbeat: 25_000, resumed: false, lastEventId: '52fafd7ea7-0' },
  { type: 'connected', connectionId: 'c-2', heartbeat: 0, resumed: true },
  { type: 'heartbeat' },
  { type: 'reset', topic: 'orders/*', reason: 'expired' },
  { type: 'error', code: 'forbidden', message: 'no', ref: 3 },
  { type: 'error', code: 'shutting_down', message: 'bye', retryAfter: 1597 },
  { type: 'subscribed', topics: ['a', 'b/*'], ref: 'r1' },
  { type: 'unsubscribed', topics: ['team/x'], reason: 'forbidden' },
  { type: 'unsubscribed', topics: ['a'], ref: 2 },
  { type: 'pong' },
  { type: 'published', id: 'x-1', duplicate: true, ref: 9 },
  { type: 'refreshed', expiresAt: null, ref: 7 },
  { type: 'refreshed', expiresAt: 1_795_405_398_000 },
  { type: 'paused', reason: 'log_unavailable' },
  { type: 'resumed' },
];

describe('decodeHubMessage', () => {
  it('decodes every control message the hub encodes to itself', () => {
    for (const message of CONTROLS) assert.deepEqual(decodeHubMessage(JSON.parse(encodeControl(message))), message);
  });

  it('has a valid example for every control type', () => {
    assert.deepEqual([...new Set(CONTROLS.map((m) => m.type))].sort(), [...CONTROL_TYPES].sort());
  });

  it('decodes every example in protocol.md section 4', () => {
    for (const example of documentedExamples()) {
      const decoded = decodeHubMessage(example);
      assert.equal(decoded.type, (example as { type: string }).type, JSON.stringify(example));
    }
  });

  it('decodes an event by the id+topic rule, whatever its own type', () => {
    assert.deepEqual(decodeHubMessage(JSON.parse(serializeEnvelope(EVENT))), { type: 'event', event: EVENT });
    // An event's type never names a control message, but the rule does not depend on it.
    const odd = { ...EVENT, type: 'connected' };
    assert.deepEqual(decodeHubMessage(odd), { type: 'event', event: odd });
  });

  it('refuses events without their fields', () => {
    for (const field of ['type', 'data', 'timestamp'] as const) {
      const { [field]: _dropped, ...rest } = EVENT;
      assert.deepEqual(decodeHubMessage(rest), { type: 'invalid', reason: 'malformed event' }, field);
    }
    assert.equal(decodeHubMessage({ ...EVENT, timestamp: 1 }).type, 'invalid');
  });

  it('returns invalid for what is not an object, an unknown type or a malformed control message', () => {
    for (const value of [null, 1, 'x', true, [], [{ type: 'heartbeat' }], undefined]) {
      assert.deepEqual(decodeHubMessage(value), { type: 'invalid', reason: 'not a JSON object' }, String(value));
    }
    assert.deepEqual(decodeHubMessage({ type: 'hello' }), { type: 'invalid', reason: 'unknown message type hello' });
    assert.deepEqual(decodeHubMessage({}), { type: 'invalid', reason: 'unknown message type undefined' });
    assert.deepEqual(decodeHubMessage({ type: '__proto__' }), { type: 'invalid', reason: 'unknown message type __proto__' });
    const malformed: unknown[] = [
      { type: 'connected', connectionId: 'c', heartbeat: '25000', resumed: false },
      { type: 'connected', heartbeat: 1, resumed: false },
      { type: 'connected', connectionId: 'c', heartbeat: 1, resumed: false, lastEventId: 5 },
      { type: 'reset', reason: 'expired' },
      { type: 'error', message: 'no code' },
      { type: 'error', code: 'forbidden', message: 'x', ref: {} },
      { type: 'error', code: 'shutting_down', message: 'x', retryAfter: '5' },
      { type: 'subscribed', topics: 'a' },
      { type: 'subscribed', topics: ['a', 1] },
      { type: 'unsubscribed', topics: ['a'], reason: 1 },
      { type: 'published', id: 'x', duplicate: 'no' },
      { type: 'refreshed' },
      { type: 'paused' },
    ];
    for (const value of malformed) {
      const type = (value as { type: string }).type;
      assert.deepEqual(decodeHubMessage(value), { type: 'invalid', reason: `malformed ${type} message` }, JSON.stringify(value));
    }
  });

  it('keeps what a newer hub may send: unknown error codes, reset reasons and extra fields', () => {
    assert.deepEqual(decodeHubMessage({ type: 'error', code: 'brand_new', message: 'm', ref: 1 }), { type: 'error', code: 'brand_new', message: 'm', ref: 1 });
    assert.deepEqual(decodeHubMessage({ type: 'reset', topic: 'a', reason: 'rebalanced' }), { type: 'reset', topic: 'a', reason: 'rebalanced' });
    assert.deepEqual(decodeHubMessage({ type: 'heartbeat', load: 0.5 }), { type: 'heartbeat', load: 0.5 });
  });

  it('gives an error without a message its code as the message', () => {
    assert.deepEqual(decodeHubMessage({ type: 'error', code: 'slow_consumer' }), { type: 'error', code: 'slow_consumer', message: 'slow_consumer' });
  });
});
