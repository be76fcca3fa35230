import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CONTROL_TYPES, decodeHubMessage } from '../src/index.js';
import { checkProperty } from './property.js';

const KNOWN_TYPES = new Set<string>([...CONTROL_TYPES, 'event', 'invalid']);

/** Objects shaped like hub messages: a control type (or near miss) with arbitrary JSON fields, sometimes an id and a topic. */
const messageLike = fc
  .record({
    type: fc.oneof(fc.constantFrom(...CONTROL_TYPES), fc.string(), fc.jsonValue({ maxDepth: 1 })),
    fields: fc.dictionary(
      fc.constantFrom(
        'id',
        'topic',
        'ref',
        'code',
        'message',
        'topics',
        'heartbeat',
        'resumed',
        'connectionId',
        'reason',
        'retryAfter',
        'expiresAt',
        'data',
        'timestamp',
      ),
      fc.jsonValue({ maxDepth: 2 }),
    ),
  })
  .map(({ type, fields }) => ({ type, ...fields }) as Record<string, unknown>);

describe('decodeHubMessage (properties)', () => {
  it('never throws on arbitrary JSON, and always returns a known type', () => {
    checkProperty(
      fc.property(fc.oneof(fc.jsonValue(), messageLike), (value) => {
        const decoded = decodeHubMessage(JSON.parse(JSON.stringify(value) ?? 'null'));
        assert.ok(KNOWN_TYPES.has(decoded.type), decoded.type);
        if (decoded.type === 'invalid') assert.equal(typeof decoded.reason, 'string');
      }),
      2000,
    );
  });

  it('keeps the shape rule: an object with a string id and topic is an event or invalid, never a control message', () => {
    checkProperty(
      fc.property(messageLike, fc.string(), fc.string(), (value, id, topic) => {
        const decoded = decodeHubMessage({ ...value, id, topic });
        assert.ok(decoded.type === 'event' || decoded.type === 'invalid', decoded.type);
      }),
      1000,
    );
  });

  it('returns a control message only under the type it was sent with, with every field it was sent with', () => {
    checkProperty(
      fc.property(messageLike, (value) => {
        const decoded = decodeHubMessage(value);
        if (decoded.type === 'event' || decoded.type === 'invalid') return;
        assert.equal(decoded.type, value['type']);
        for (const [key, field] of Object.entries(value)) assert.deepEqual((decoded as unknown as Record<string, unknown>)[key], field, key);
      }),
      1000,
    );
  });
});
