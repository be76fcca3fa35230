import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACKOFF_DEFAULTS, backoffDelay } from '../src/index.js';

describe('backoffDelay', () => {
  it('defaults to 1 s doubling to a 30 s cap', () => {
    assert.deepEqual(BACKOFF_DEFAULTS, { initial: 1000, factor: 2, cap: 30_000 });
    const top = Array.from({ length: 8 }, (_, attempt) => backoffDelay(attempt, BACKOFF_DEFAULTS, () => 0.9999999));
    assert.deepEqual(top, [999, 1999, 3999, 7999, 15999, 29999, 29999, 29999]);
  });

  it('stays in [0, ceiling) for any random value, for every attempt', () => {
    const options = { initial: 250, factor: 1.5, cap: 10_000 };
    for (let attempt = 0; attempt < 50; attempt++) {
      const ceiling = Math.min(options.cap, options.initial * options.factor ** attempt);
      for (const random of [0, 0.25, 0.5, 0.9999999]) {
        const delay = backoffDelay(attempt, options, () => random);
        assert.ok(delay >= 0 && delay < ceiling, `attempt ${attempt}, random ${random}: ${delay} not in [0, ${ceiling})`);
        assert.equal(delay, Math.floor(random * ceiling));
      }
    }
  });

  it('never overflows for huge attempt numbers', () => {
    assert.equal(
      backoffDelay(1e6, BACKOFF_DEFAULTS, () => 0.5),
      15_000,
    );
  });
});
