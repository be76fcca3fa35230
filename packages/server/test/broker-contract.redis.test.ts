import { RedisBroker } from '../src/broker/redis.js';
import { runBrokerContract } from './broker-contract.js';
import { dropPrefix, REDIS_URL, redisSkipReason, testPrefix } from './helpers/redis.js';

const skip = await redisSkipReason();

runBrokerContract(
  'redis',
  async ({ maxEvents }) => {
    const prefix = testPrefix();
    const make = (): RedisBroker => new RedisBroker({ url: REDIS_URL, prefix, maxEvents, blockMs: 200 });
    return { broker: make(), peer: make, cleanup: () => dropPrefix(prefix) };
  },
  skip,
);
