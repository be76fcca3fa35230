import { describe, it } from 'node:test';
import { clusterExperiment } from '../src/experiments/cluster.js';
import { redisSkipReason } from '../../packages/server/test/helpers/redis.js';
import { assertPassed, shortRun } from './experiment-assert.js';

const skip = await redisSkipReason();

describe('chaos: cluster', { skip }, () => {
  it('three Redis nodes, random SIGKILLs: clients resume on another node with nothing missed, duplicated or reordered', async () => {
    const options = shortRun(6000);
    assertPassed(await clusterExperiment(options), options.seed);
  });
});
