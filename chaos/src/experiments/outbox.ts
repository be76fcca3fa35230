import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type pg from 'pg';
import { CLIENT_KINDS } from '../clients/client.js';
import { RoundRobinBalancer } from '../infra/balancer.js';
import { HubNode } from '../infra/hub-node.js';
import { RedisLogTap } from '../infra/redis-log-tap.js';
import type { Ledger } from '../ledger.js';
import { between, sleep } from '../random.js';
import type { ExperimentResult } from '../report.js';
import { createTestSchema, type TestSchema } from '../../../packages/server/test/helpers/postgres.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../../../packages/server/test/helpers/redis.js';
import { HERALD_BIN } from '../../../packages/server/test/helpers/serve.js';
import { Session, type ExperimentOptions } from './session.js';

const TOPICS = ['chaos/a', 'chaos/b', 'chaos/c'] as const;
const run = promisify(execFile);

/** Which log the relaying hub keeps. */
export type OutboxLog = 'memory' | 'redis';

interface WriterStats {
  committed: number;
  rolledBack: number;
  failed: number;
}

/**
 * One writer: transactions that each call `herald_publish()` once and then commit
 * (acknowledged = COMMIT returned) or roll back (recorded as refused: a rolled-back
 * event must never be delivered). A transaction that fails midway is neither.
 */
async function runWriter(schema: TestSchema, ledger: Ledger, name: string, runId: string, stopped: () => boolean, random: () => number): Promise<WriterStats> {
  const stats: WriterStats = { committed: 0, rolledBack: 0, failed: 0 };
  const client: pg.Client = await schema.connect();
  try {
    for (let seq = 0; !stopped() && seq < 1_000_000; seq++) {
      const key = `chaos.${runId}.${name}.${seq}`;
      const topic = TOPICS[Math.floor(random() * TOPICS.length)]!;
      const rollback = random() < 0.3;
      ledger.sent(key, topic);
      try {
        await client.query('BEGIN');
        await client.query("SELECT herald_publish($1, 'chaos', jsonb_build_object('k', $2::text))", [topic, key]);
        await client.query(rollback ? 'ROLLBACK' : 'COMMIT');
        if (rollback) {
          ledger.refused(key);
          stats.rolledBack += 1;
        } else {
          ledger.acked(key);
          stats.committed += 1;
        }
      } catch {
        stats.failed += 1;
        await client.query('ROLLBACK').catch(() => undefined);
      }
      await sleep(10);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
  return stats;
}

/**
 * Experiment 4: a `herald serve --postgres` node relaying the outbox is SIGKILLed
 * and restarted every 1.5–3.5 s while writers commit and roll back
 * `herald_publish()` transactions. Committed events must reach every subscriber
 * once, in commit order, or with a reset; rolled-back ones never.
 */
export async function outboxExperiment(log: OutboxLog, options: ExperimentOptions): Promise<ExperimentResult> {
  const schema = await createTestSchema();
  const prefix = testPrefix();
  const redisArgs = log === 'redis' ? ['--redis', REDIS_URL, '--redis-prefix', prefix] : [];
  const hub = new HubNode('relay', () => ['--postgres', schema.url, '--pg-poll-interval', '200ms', '--history-size', '100000', ...redisArgs]);
  const tap = log === 'redis' ? new RedisLogTap(REDIS_URL, prefix).start() : undefined;
  const session = new Session(options);
  const balancer = await RoundRobinBalancer.start(() => (hub.running ? [hub.port] : []));
  let kills = 0;
  try {
    await run(process.execPath, [HERALD_BIN, 'pg', 'outbox', 'install', '--postgres', schema.url]);
    await hub.start();
    session.subscribe(CLIENT_KINDS, ['chaos/*', 'chaos/a'], () => () => balancer.url);
    await session.waitSubscribed();
    const writers = [0, 1, 2].map((i) => runWriter(schema, session.ledger, `w${i}`, session.run, () => session.stopped, options.random));
    const until = Date.now() + options.durationMs;
    while (Date.now() < until) {
      await sleep(between(options.random, 1500, 3500));
      await hub.kill();
      kills += 1;
      session.mark('relay killed');
      await sleep(between(options.random, 200, 1000));
      await hub.start();
    }
    await session.stopPublishing();
    const stats = (await Promise.all(writers)).reduce((s, w) => ({
      committed: s.committed + w.committed,
      rolledBack: s.rolledBack + w.rolledBack,
      failed: s.failed + w.failed,
    }));
    const drained = await session.drain(20_000);
    await tap?.stop();
    options.log(`outbox-${log}: ${kills} relay kills, ${stats.committed} committed, ${stats.rolledBack} rolled back`);
    await session.closeClients();
    return session.result({
      name: `outbox-${log}`,
      title: `Postgres outbox relay (${log === 'memory' ? 'in-memory' : 'Redis'} log) SIGKILLed every 1.5–3.5 s while writers commit and roll back herald_publish()`,
      knobs: { durationMs: options.durationMs, subscribersPerKind: options.subscribersPerKind, log },
      published: { attempted: stats.committed + stats.rolledBack + stats.failed, acknowledged: stats.committed, refused: stats.rolledBack },
      crashes: hub.crashes,
      notes: [
        `${kills} relay kills; ${stats.rolledBack} transactions rolled back (counted as refused: never to be delivered); ${stats.failed} failed`,
        ...(drained ? [] : ['drain timed out after 20 s']),
        ...hub.crashLogs,
      ],
      logOrder: tap?.order,
    });
  } finally {
    await session.closeClients();
    await tap?.stop();
    await balancer.close();
    await hub.stop();
    await schema.drop().catch(() => undefined);
    if (log === 'redis') await dropPrefix(prefix).catch(() => undefined);
  }
}
