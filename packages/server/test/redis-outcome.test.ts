import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeraldError } from '@herald/protocol';
import { Redis } from 'ioredis';
import { settleAppend, type AppendAttempt } from '../src/broker/redis-outcome.js';
import { APPEND_SCRIPT, OUTCOME_SCRIPT } from '../src/broker/redis-scripts.js';
import { dropPrefix, REDIS_URL, redisSkipReason, testPrefix } from './helpers/redis.js';

const skip = await redisSkipReason();

// settleAppend is pure over two callbacks. A real Redis cannot be made to lose one
// reply at a chosen moment while still running the script, so these cases use
// callbacks; the stall tests (redis-stall.test.ts) run the same code against a
// real, paused redis-server.
const attempt = (overrides: Partial<AppendAttempt>): AppendAttempt => ({
  run: () => Promise.reject(new Error('Command timed out')),
  outcome: () => Promise.resolve(['pending']),
  resolveWithinMs: 300,
  closed: () => false,
  ...overrides,
});

const codeOf = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof HeraldError ? error.code : `other: ${(error as Error).message}`;
  }
};

describe('settleAppend (the 503/504 rule)', () => {
  it('returns the reply when there is one', async () => {
    assert.deepEqual(await settleAppend(attempt({ run: async () => ['e', '1-0', 0] })), ['e', '1-0', 0]);
  });

  it('answers broker_unavailable when Redis refused the script past its deadline', async () => {
    assert.equal(await codeOf(settleAppend(attempt({ run: async () => ['late'] }))), 'broker_unavailable');
  });

  it('answers broker_unavailable without asking when the command never ran (reply error, never sent)', async () => {
    let asked = 0;
    const outcome = async (): Promise<[string]> => {
      asked++;
      return ['none'];
    };
    const replyError = Object.assign(new Error('OOM command not allowed'), { name: 'ReplyError' });
    assert.equal(await codeOf(settleAppend(attempt({ run: () => Promise.reject(replyError), outcome }))), 'broker_unavailable');
    const unsent = new Error("Stream isn't writeable and enableOfflineQueue options is false");
    assert.equal(await codeOf(settleAppend(attempt({ run: () => Promise.reject(unsent), outcome }))), 'broker_unavailable');
    assert.equal(asked, 0);
  });

  it('after a lost reply, uses the stored reply when the token proves the append ran', async () => {
    const answers: Array<[string, string?]> = [['pending'], ['done', 'abcdef0123 1-0 0 1-1 1']];
    const reply = await settleAppend(attempt({ outcome: async () => answers.shift()! }));
    assert.deepEqual(reply, ['abcdef0123', '1-0', '0', '1-1', '1']);
  });

  it('after a lost reply, answers broker_unavailable once Redis says the deadline passed without the append', async () => {
    const answers: Array<[string, string?]> = [['pending'], ['none']];
    assert.equal(await codeOf(settleAppend(attempt({ outcome: async () => answers.shift()! }))), 'broker_unavailable');
  });

  it('answers outcome_unknown when Redis cannot be asked within the time to settle', async () => {
    const never = (): Promise<[string]> => new Promise(() => undefined);
    assert.equal(await codeOf(settleAppend(attempt({ outcome: never, resolveWithinMs: 200 }))), 'outcome_unknown');
    assert.equal(
      await codeOf(settleAppend(attempt({ outcome: () => Promise.reject(new Error('Connection is closed.')), resolveWithinMs: 200 }))),
      'outcome_unknown',
    );
  });
});

describe('append and outcome scripts (real Redis)', { skip }, () => {
  it('refuse past the deadline, record the reply under the token, and tell done / none / pending', async () => {
    const prefix = testPrefix();
    const redis = new Redis(REDIS_URL);
    try {
      const [seconds] = (await redis.time()) as [number, number];
      const now = Number(seconds) * 1000;
      const run = (deadline: number, token: string): Promise<unknown> =>
        redis.eval(
          APPEND_SCRIPT,
          2,
          `${prefix}log`,
          `${prefix}meta`,
          'abcdef0123',
          '100',
          '1',
          '60000',
          `${prefix}pid:`,
          '1',
          String(deadline),
          `${prefix}append:${token}`,
          '60000',
          '',
          't',
          'message',
          '1',
          'now',
        );
      const outcome = (token: string, deadline: number): Promise<unknown> => redis.eval(OUTCOME_SCRIPT, 1, `${prefix}append:${token}`, String(deadline));
      assert.deepEqual(await run(now - 1000, 'late'), ['late']);
      assert.equal(await redis.xlen(`${prefix}log`), 0, 'a late append appends nothing');
      assert.deepEqual(await outcome('late', now - 1000), ['none']);
      const reply = (await run(now + 60_000, 'ok')) as Array<string | number>;
      assert.equal(await redis.xlen(`${prefix}log`), 1);
      assert.deepEqual(await outcome('ok', now + 60_000), ['done', reply.join(' ')]);
      assert.deepEqual(await outcome('never-sent', now + 60_000), ['pending']);
    } finally {
      redis.disconnect();
      await dropPrefix(prefix);
    }
  });
});
