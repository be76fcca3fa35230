import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RateLimiter } from '../src/limits/rate-limiter.js';
import { TokenBucket } from '../src/limits/token-bucket.js';

describe('TokenBucket', () => {
  it('starts full: burst tokens are taken at once, the next is refused', () => {
    const bucket = new TokenBucket(10, 3, 0);
    assert.deepEqual(
      [1, 2, 3, 4].map(() => bucket.take(0)),
      [true, true, true, false],
    );
  });

  it('refills at rate per second, lazily, from the last use', () => {
    const bucket = new TokenBucket(10, 20, 0);
    for (let i = 0; i < 20; i++) assert.ok(bucket.take(0));
    assert.equal(bucket.level(250), 2.5);
    assert.ok(bucket.take(250, 2));
    assert.equal(bucket.take(250), false, 'half a token is not a token');
    assert.ok(bucket.take(300));
  });

  it('never saves up more than burst, however long it idles', () => {
    const bucket = new TokenBucket(5, 4, 0);
    assert.equal(bucket.level(3_600_000), 4);
    assert.deepEqual(
      [1, 2, 3, 4, 5].map(() => bucket.take(3_600_000)),
      [true, true, true, true, false],
    );
  });

  it('a refused take costs nothing and an empty bucket serves again once refilled', () => {
    const bucket = new TokenBucket(1, 2, 0);
    assert.equal(bucket.take(0, 3), false);
    assert.equal(bucket.level(0), 2);
    assert.ok(bucket.take(0, 2));
    for (let i = 0; i < 5; i++) assert.equal(bucket.take(10), false);
    assert.ok(bucket.take(1000));
  });

  it('property: tokens stay between 0 and burst, and a take succeeds exactly when enough are there', () => {
    const step = fc.record({ elapsed: fc.integer({ min: 0, max: 5_000 }), cost: fc.integer({ min: 1, max: 5 }) });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 1, max: 50 }), fc.array(step, { maxLength: 200 }), (rate, burst, steps) => {
        const bucket = new TokenBucket(rate, burst, 0);
        let now = 0;
        for (const { elapsed, cost } of steps) {
          now += elapsed;
          const before = bucket.level(now);
          assert.ok(before >= 0 && before <= burst, `level ${before} outside [0, ${burst}]`);
          assert.equal(bucket.take(now, cost), before >= cost);
          const after = bucket.level(now);
          assert.ok(after >= 0 && after <= burst, `level ${after} outside [0, ${burst}]`);
        }
      }),
    );
  });
});

describe('RateLimiter', () => {
  it('keeps one bucket per key, each starting full', () => {
    let now = 0;
    const limiter = new RateLimiter(1, 2, () => now);
    assert.deepEqual([limiter.take('a'), limiter.take('a'), limiter.take('a')], [true, true, false]);
    assert.ok(limiter.take('b'), 'another key has its own budget');
    now = 1000;
    assert.ok(limiter.take('a'));
    assert.equal(limiter.take('a'), false);
  });

  it('takes a cost of several tokens, or none', () => {
    const limiter = new RateLimiter(10, 5, () => 0);
    assert.equal(limiter.take('k', 6), false);
    assert.ok(limiter.take('k', 5));
    assert.equal(limiter.take('k'), false);
  });
});
