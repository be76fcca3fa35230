import { describe, it } from 'node:test';
import { outboxExperiment } from '../src/experiments/outbox.js';
import { postgresSkipReason } from '../../packages/server/test/helpers/postgres.js';
import { redisSkipReason } from '../../packages/server/test/helpers/redis.js';
import { assertPassed, shortRun } from './experiment-assert.js';

const skipPostgres = await postgresSkipReason();
const skipRedis = skipPostgres === false ? await redisSkipReason() : skipPostgres;

describe('chaos: outbox relay killed', { skip: skipPostgres }, () => {
  it('in-memory log: committed events once, in commit order, or a reset; rolled-back ones never', async () => {
    const options = shortRun(4000);
    assertPassed(await outboxExperiment('memory', options), options.seed);
  });

  it('Redis log: committed events once, in commit order, or a reset; rolled-back ones never', { skip: skipRedis }, async () => {
    const options = shortRun(4000);
    assertPassed(await outboxExperiment('redis', options), options.seed);
  });
});
