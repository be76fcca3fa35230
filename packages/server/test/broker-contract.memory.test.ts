import { MemoryBroker } from '../src/index.js';
import { runBrokerContract } from './broker-contract.js';

runBrokerContract('memory', async ({ maxEvents }) => ({
  broker: new MemoryBroker({ maxEvents }),
  cleanup: async () => undefined,
}));
