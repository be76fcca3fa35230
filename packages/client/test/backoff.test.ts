import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACKOFF_DEFAULTS, backoffDelay, createClient, type ClientOptions } from '../src/index.js';

describe('backoffDelay', () => {
  it('defaults to 1 s doubling to a 30 s cap, with full jitter', () => {
    assert.deepEqual(BACKOFF_DEFAULTS, { initial: 1000, factor: 2, cap: 30_000, jitter: 'full' });
    const top = Array.from({ length: 8 }, (_, attempt) => backoffDelay(attempt, BACKOFF_DEFAULTS, () => 0.9999999));
    assert.deepEqual(top, [999, 1999, 3999, 7999, 15999, 29999, 29999, 29999]);
  });

  it('stays in [0, ceiling) for any random value, for every attempt', () => {
    const options = { initial: 250, factor: 1.5, cap: 10_000, jitter: 'full' } as const;
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

  it('with jitter none waits each ceiling exactly, whatever random says', () => {
    const options = { ...BACKOFF_DEFAULTS, cap: 16_000, jitter: 'none' } as const;
    for (const random of [0, 0.5, 0.9999999]) {
      const delays = Array.from({ length: 7 }, (_, attempt) => backoffDelay(attempt, options, () => random));
      assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16_000, 16_000, 16_000]);
    }
    assert.equal(backoffDelay(3, { initial: 100, factor: 1.5, cap: 10_000, jitter: 'none' }, Math.random), 337);
    assert.equal(backoffDelay(1e6, options, Math.random), 16_000);
  });

  it('keeps every delay within what setTimeout can wait, even with cap: Infinity', () => {
    // Past 2^31-1 ms setTimeout fires at once, which would turn the backoff into a busy loop.
    const uncapped = { ...BACKOFF_DEFAULTS, cap: Infinity, jitter: 'none' } as const;
    assert.equal(backoffDelay(40, uncapped, Math.random), 1e9);
    assert.ok(backoffDelay(1e6, { ...uncapped, jitter: 'full' }, () => 0.9999999) < 2 ** 31 - 1);
  });
});

describe('backoff and maxAttempts options', () => {
  const create = (options: Partial<ClientOptions>) => createClient({ url: 'http://hub.test', transport: 'sse', ...options }).close();

  it('accept the check-in schedule, Infinity and 0', () => {
    create({ backoff: { initial: 1000, factor: 2, cap: 16_000, jitter: 'none' }, maxAttempts: 5 });
    create({ backoff: { jitter: 'full' }, maxAttempts: Infinity });
    create({ maxAttempts: 0 });
  });

  it('refuse bad values with a message naming the option', () => {
    const refusals: Array<[unknown, RegExp]> = [
      [{ backoff: { jitter: 'equal' } }, /option backoff\.jitter must be "full" or "none", got "equal"/],
      [{ backoff: { initial: -1 } }, /option backoff\.initial must be a number >= 0, got -1/],
      [{ backoff: { cap: '16s' } }, /option backoff\.cap must be a number >= 0, got "16s"/],
      [{ backoff: { factor: 0.5 } }, /option backoff\.factor must be a number >= 1, got 0\.5/],
      [{ backoff: { factor: Number.NaN } }, /option backoff\.factor must be a number >= 1, got NaN/],
      [{ maxAttempts: -1 }, /option maxAttempts must be a number >= 0, got -1/],
      [{ maxAttempts: '5' }, /option maxAttempts must be a number >= 0, got "5"/],
    ];
    for (const [options, message] of refusals) {
      assert.throws(
        () => create(options as Partial<ClientOptions>),
        (error: Error) => error instanceof TypeError && message.test(error.message),
        JSON.stringify(options),
      );
    }
  });
});
