import { describe, it } from 'node:test';
import { redisFaultExperiment } from '../src/experiments/redis-faults.js';
import { redisSkipReason } from '../../packages/server/test/helpers/redis.js';
import { assertPassed, shortRun } from './experiment-assert.js';

// The faults hit private redis-servers (ports 6410-6429) that the experiment starts,
// kills and pauses; the shared Redis answering says Redis is meant to be here.
const skip = await redisSkipReason();

describe('chaos: Redis restarts and stalls', { skip }, () => {
  for (const name of ['redis-restart-aof', 'redis-restart-empty', 'redis-stall']) {
    it(`${name}: every acknowledged event once, in order, or a reset; a refused (503) publish is never delivered`, async () => {
      const options = shortRun(3000);
      assertPassed(await redisFaultExperiment(name)(options), options.seed);
    });
  }
});
