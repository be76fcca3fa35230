/**
 * `--pg-listen` on several nodes of one (Redis) log: NOTIFY reaches every listening
 * node, and exactly one of them (the lease holder) must turn it into an event.
 */
import { OUTBOX_INSTALL_SQL } from '../../src/index.js';
import { startBridgeNodes } from '../helpers/bridge-nodes.js';
import { describeExactlyOnce, type BridgedPair } from '../helpers/exactly-once-suite.js';
import { createTestSchema, postgresSkipReason } from '../helpers/postgres.js';
import { dropPrefix, REDIS_URL, redisSkipReason, testPrefix } from '../helpers/redis.js';

const pgSkip = await postgresSkipReason();
const skip = pgSkip !== false ? pgSkip : await redisSkipReason();
const TOPIC = 'listened';

/** Two nodes on a fresh Redis prefix and a fresh schema, both relaying a channel of that schema's own into TOPIC. */
async function setUp(): Promise<BridgedPair> {
  const prefix = testPrefix();
  const schema = await createTestSchema();
  // The outbox relay starts with --postgres too; installed, it stays quiet.
  await schema.query(OUTBOX_INSTALL_SQL);
  // NOTIFY channels are database-wide: one of this test's own.
  const channel = `listen_once_${schema.schema}`;
  const args = ['--redis', REDIS_URL, '--redis-prefix', prefix, '--postgres', schema.url, '--pg-listen', `${channel}=${TOPIC}`];
  const pair = await startBridgeNodes(args, TOPIC).catch(async (error: unknown) => {
    await schema.drop();
    throw error;
  });
  const send = async (message: unknown): Promise<void> => void (await schema.query('SELECT pg_notify($1, $2)', [channel, JSON.stringify(message)]));
  return {
    ...pair,
    prefix,
    lease: `pg-listen:${channel}=${TOPIC}`,
    send,
    tearDown: async () => {
      await pair.stop();
      await schema.drop();
      await dropPrefix(prefix);
    },
  };
}

describeExactlyOnce(
  { suite: '--pg-listen on two nodes sharing a log', command: 'NOTIFY', unit: 'notification', verb: 'relays', eventType: 'insert' },
  skip,
  TOPIC,
  setUp,
);
