import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeraldError } from '@herald/protocol';
import { parsePublishBody, serializeData } from '../src/publish-input.js';

const LIMIT = 1024;

function refusedAsTooLarge(run: () => unknown): void {
  assert.throws(run, (error: unknown) => error instanceof HeraldError && error.code === 'event_too_large');
}

describe('serializeData', () => {
  it('returns the JSON.stringify text, which the log then reuses', () => {
    for (const data of [null, 0, 'é', [1, { a: 'b' }], { nested: { deep: true } }]) {
      assert.equal(serializeData(data, LIMIT), JSON.stringify(data));
    }
  });

  it('measures UTF-8 bytes, not characters', () => {
    // 'é' is 2 bytes: 511 of them plus the two quotes are exactly the limit.
    assert.equal(Buffer.byteLength(serializeData('é'.repeat(511), LIMIT)), LIMIT);
    refusedAsTooLarge(() => serializeData('é'.repeat(512), LIMIT));
    // '中' is 3 bytes: 341 of them are 1,025 bytes in 343 characters.
    assert.doesNotThrow(() => serializeData('中'.repeat(340), LIMIT));
    refusedAsTooLarge(() => serializeData('中'.repeat(341), LIMIT));
    // 4-byte characters are two UTF-16 units each.
    refusedAsTooLarge(() => serializeData('\u{1F600}'.repeat(256), LIMIT));
    assert.doesNotThrow(() => serializeData('\u{1F600}'.repeat(255), LIMIT));
  });

  it('counts the serialized size, escapes included', () => {
    // Each quote is 2 bytes escaped: 511 of them and the enclosing quotes are exactly the limit.
    refusedAsTooLarge(() => serializeData('"'.repeat(512), LIMIT));
    assert.doesNotThrow(() => serializeData('"'.repeat(511), LIMIT));
  });
});

describe('parsePublishBody', () => {
  it("carries each event's serialized data in its draft", () => {
    const drafts = parsePublishBody(
      [
        { topic: 'a', data: { n: 1 } },
        { topic: 'b', data: null, type: 't', id: 'p-1' },
      ],
      LIMIT,
    );
    assert.deepEqual(drafts, [
      { topic: 'a', type: 'message', data: { n: 1 }, dataJson: '{"n":1}' },
      { topic: 'b', type: 't', data: null, dataJson: 'null', id: 'p-1' },
    ]);
  });
});
