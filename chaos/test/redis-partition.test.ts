import { describe, it } from 'node:test';
import { redisFaultExperiment } from '../src/experiments/redis-faults.js';
import { redisSkipReason } from '../../packages/server/test/helpers/redis.js';
import { assertPassed, shortRun } from './experiment-assert.js';

const skip = await redisSkipReason();

describe('chaos: a node partitioned from Redis', { skip }, () => {
  for (const name of ['partition-retention', 'partition-age']) {
    it(`${name}: a node cut off past retention resets its subscribers instead of skipping events`, async () => {
      const options = shortRun(3000);
      assertPassed(await redisFaultExperiment(name)(options), options.seed);
    });
  }
});
