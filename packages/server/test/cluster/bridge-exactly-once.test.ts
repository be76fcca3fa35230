/**
 * `--redis-bridge` on several nodes of one log: pub/sub hands each message to every
 * node, and exactly one of them (the lease holder) must turn it into an event.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { startBridgeNodes } from '../helpers/bridge-nodes.js';
import { describeExactlyOnce, type BridgedPair } from '../helpers/exactly-once-suite.js';
import { dropPrefix, REDIS_URL, redisSkipReason, testPrefix } from '../helpers/redis.js';

const skip = await redisSkipReason();
const TOPIC = 'bridged';

/** Two nodes on a fresh prefix, both bridging a fresh channel into TOPIC. */
async function setUp(): Promise<BridgedPair> {
  const prefix = testPrefix();
  const channel = `bridge_once_${randomBytes(6).toString('hex')}`;
  const pair = await startBridgeNodes(['--redis', REDIS_URL, '--redis-prefix', prefix, '--redis-bridge', `${channel}=${TOPIC}`], TOPIC);
  const redis = new Redis(REDIS_URL);
  const send = async (message: unknown): Promise<void> => void (await redis.publish(channel, JSON.stringify(message)));
  return {
    ...pair,
    prefix,
    lease: `redis-bridge:${channel}=${TOPIC}`,
    send,
    tearDown: async () => {
      redis.disconnect();
      await pair.stop();
      await dropPrefix(prefix);
    },
  };
}

describeExactlyOnce(
  { suite: 'Redis bridge on two nodes sharing a log', command: 'PUBLISH', unit: 'message', verb: 'bridges', eventType: 'create' },
  skip,
  TOPIC,
  setUp,
);
