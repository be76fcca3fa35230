import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeClientMessage, encodeControl, HeraldError, isEnvelope, isErrorCode, type ClientMessage, type ControlMessage } from '../src/index.js';
import { checkProperty } from './property.js';

/** [errors.md] The codes a WebSocket request can be refused with while decoding; the connection stays open for all of them. */
const DECODE_CODES = new Set([
  'invalid_json',
  'invalid_request',
  'invalid_topic',
  'invalid_type',
  'reserved_type',
  'invalid_id',
  'invalid_since',
  'invalid_filter',
]);

/** Decodes and checks the result's shape: never a throw, a documented code, and a ref only when the request had a valid one. */
function decodeChecked(text: string) {
  const result = decodeClientMessage(text);
  if (!result.ok) {
    assert.ok(result.error instanceof HeraldError, 'the error is a HeraldError');
    assert.ok(isErrorCode(result.error.code) && DECODE_CODES.has(result.error.code), `documented decode code, got ${result.error.code}`);
    if (result.ref !== undefined) {
      const raw = JSON.parse(text) as Record<string, unknown>;
      assert.equal(result.ref, raw['ref'], 'the error carries the request ref');
    }
  }
  return result;
}

const topicArb = fc.stringMatching(/^[a-z0-9]{1,5}(\/[a-z0-9]{1,5}){0,2}$/);
const patternArb = fc.oneof(
  topicArb,
  topicArb.map((t) => `${t}/*`),
  topicArb.map((t) => `${t}/**`),
  fc.constant('**'),
);
const refArb = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => n + 0),
  fc.string({ maxLength: 64 }),
); // + 0: JSON has no -0
const idArb = fc.stringMatching(/^[A-Za-z0-9_\-.:~@=+/]{1,30}$/);
const typeArb = fc
  .stringMatching(/^[A-Za-z0-9_\-.:]{1,20}$/)
  .filter(
    (t) => !['connected', 'heartbeat', 'reset', 'error', 'subscribed', 'unsubscribed', 'pong', 'published', 'refreshed', 'paused', 'resumed'].includes(t),
  );

/** Valid client requests and what they must decode to. */
const validArb: fc.Arbitrary<{ raw: Record<string, unknown>; decoded: ClientMessage }> = fc.oneof(
  fc.record({ ref: fc.option(refArb, { nil: undefined }) }).map(({ ref }) => {
    const raw: Record<string, unknown> = { type: 'ping' };
    if (ref !== undefined) raw['ref'] = ref;
    return { raw, decoded: raw as unknown as ClientMessage };
  }),
  fc
    .record({
      kind: fc.constantFrom('subscribe', 'unsubscribe'),
      topics: fc.array(patternArb, { minLength: 1, maxLength: 4 }),
      since: fc.option(idArb),
      filter: fc.option(fc.constantFrom('a = 1', "b.c != 'x' and n > 2")),
      ref: fc.option(refArb),
    })
    .map(({ kind, topics, since, filter, ref }) => {
      const raw: Record<string, unknown> = { type: kind, topics };
      const decoded: Record<string, unknown> = { type: kind, topics: [...new Set(topics)] };
      if (kind === 'subscribe') {
        if (since !== null) raw['since'] = decoded['since'] = since;
        if (filter !== null) raw['filter'] = decoded['filter'] = filter;
      }
      if (ref !== null) raw['ref'] = decoded['ref'] = ref;
      return { raw, decoded: decoded as unknown as ClientMessage };
    }),
  fc
    .record({ topic: topicArb, event: fc.option(typeArb), data: fc.jsonValue({ maxDepth: 3 }), id: fc.option(idArb), ref: fc.option(refArb) })
    .map(({ topic, event, data, id, ref }) => {
      const json = JSON.parse(JSON.stringify(data)) as unknown;
      const raw: Record<string, unknown> = { type: 'publish', topic, data: json };
      const decoded: Record<string, unknown> = { type: 'publish', topic, event: event ?? 'message', data: json };
      if (event !== null) raw['event'] = event;
      if (id !== null) raw['id'] = decoded['id'] = id;
      if (ref !== null) raw['ref'] = decoded['ref'] = ref;
      return { raw, decoded: decoded as unknown as ClientMessage };
    }),
  fc.record({ token: fc.string({ minLength: 1, maxLength: 100 }), ref: fc.option(refArb) }).map(({ token, ref }) => {
    const raw: Record<string, unknown> = { type: 'refresh', token };
    if (ref !== null) raw['ref'] = ref;
    return { raw, decoded: raw as unknown as ClientMessage };
  }),
);

/** Fields a client might send, valid or not, to build wrong shapes. */
const fieldArb = fc.constantFrom('type', 'topics', 'topic', 'since', 'filter', 'ref', 'event', 'data', 'id', 'token', '__proto__', 'constructor', 'extra');
const valueArb = fc.oneof(
  fc.constantFrom(
    'subscribe',
    'unsubscribe',
    'ping',
    'publish',
    'refresh',
    'toString',
    'a',
    'a/*',
    '**',
    'a b',
    '',
    'x = ',
    'a = 1',
    'reset',
    'x'.repeat(65),
    'abcdef0123-1',
  ),
  fc.array(fc.constantFrom('a', 'a/**', '**/a', '', 1, null), { maxLength: 3 }),
  fc.anything({ maxDepth: 2 }),
);
const shapeArb = fc.dictionary(fieldArb, valueArb, { maxKeys: 6 }).map((raw) => JSON.stringify(raw));

describe('WebSocket codec properties', () => {
  it('valid requests decode to exactly their message', () => {
    checkProperty(
      fc.property(validArb, ({ raw, decoded }) => {
        const result = decodeChecked(JSON.stringify(raw));
        assert.ok(result.ok, `refused: ${result.ok ? '' : result.error.message}`);
        assert.deepEqual(result.message, decoded);
      }),
      800,
    );
  });

  it('any frame decodes or is refused with a documented code; it never throws', () => {
    const mutatedArb = validArb.chain(({ raw }) => {
      const text = JSON.stringify(raw);
      return fc
        .tuple(fc.nat(text.length), fc.nat(3), fc.string({ maxLength: 3 }))
        .map(([at, cut, insert]) => text.slice(0, at) + insert + text.slice(at + cut));
    });
    const withFieldArb = fc.tuple(validArb, fieldArb, valueArb).map(([{ raw }, key, value]) => JSON.stringify({ ...raw, [key]: value }));
    checkProperty(
      fc.property(fc.oneof(shapeArb, mutatedArb, withFieldArb, fc.string(), fc.json(), fc.constant('['.repeat(5000) + ']'.repeat(5000))), (text) => {
        decodeChecked(text);
      }),
      2000,
    );
  });

  it('a frame with an unusable ref is refused with invalid_request and no ref', () => {
    checkProperty(
      fc.property(
        validArb,
        fc.oneof(fc.string({ minLength: 65, maxLength: 80 }), fc.boolean(), fc.array(fc.integer()), fc.object({ maxDepth: 1 })),
        ({ raw }, ref) => {
          const result = decodeChecked(JSON.stringify({ ...raw, ref }));
          assert.ok(!result.ok, 'refused');
          assert.equal(result.error.code, 'invalid_request');
          assert.equal(result.ref, undefined);
        },
      ),
      300,
    );
  });

  it('encodeControl round trips every control message through JSON, on one line, never shaped like an event', () => {
    const codeArb = fc.constantFrom('invalid_json', 'forbidden', 'shutting_down', 'internal_error' as const);
    const textArb = fc.string({ unit: 'binary', maxLength: 20 });
    // Optional fields are left out by requiredKeys, never set to undefined (exactOptionalPropertyTypes).
    const optRef = refArb;
    const controlArb: fc.Arbitrary<ControlMessage> = fc.oneof(
      fc.record(
        { type: fc.constant('connected' as const), connectionId: fc.uuid(), heartbeat: fc.nat(), resumed: fc.boolean(), lastEventId: idArb },
        { requiredKeys: ['type', 'connectionId', 'heartbeat', 'resumed'] },
      ),
      fc.constant({ type: 'heartbeat' as const }),
      fc.record({ type: fc.constant('reset' as const), topic: patternArb, reason: fc.constantFrom('unknown_id' as const, 'expired' as const) }),
      fc.record(
        { type: fc.constant('error' as const), code: codeArb, message: textArb, ref: optRef, retryAfter: fc.nat() },
        { requiredKeys: ['type', 'code', 'message'] },
      ),
      fc.record({ type: fc.constant('subscribed' as const), topics: fc.array(patternArb), ref: optRef }, { requiredKeys: ['type', 'topics'] }),
      fc.record(
        { type: fc.constant('unsubscribed' as const), topics: fc.array(patternArb), ref: optRef, reason: fc.constant('forbidden' as const) },
        { requiredKeys: ['type', 'topics'] },
      ),
      fc.record({ type: fc.constant('pong' as const), ref: optRef }, { requiredKeys: ['type'] }),
      fc.record({ type: fc.constant('published' as const), id: idArb, duplicate: fc.boolean(), ref: optRef }, { requiredKeys: ['type', 'id', 'duplicate'] }),
      fc.record({ type: fc.constant('refreshed' as const), expiresAt: fc.option(fc.nat()), ref: optRef }, { requiredKeys: ['type', 'expiresAt'] }),
      fc.constant({ type: 'paused' as const, reason: 'log_unavailable' as const }),
      fc.constant({ type: 'resumed' as const }),
    );
    checkProperty(
      fc.property(controlArb, (message) => {
        const text = encodeControl(message);
        assert.equal(text.search(/[\r\n]/), -1, 'one line');
        const decoded = JSON.parse(text) as Record<string, unknown>;
        assert.deepEqual(decoded, JSON.parse(JSON.stringify(message)));
        assert.equal(decoded['type'], message.type);
        assert.equal(isEnvelope(decoded), false, 'a control message never has both id and topic');
      }),
      800,
    );
  });
});
