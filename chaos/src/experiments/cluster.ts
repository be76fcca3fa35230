import { CLIENT_KINDS } from '../clients/client.js';
import { HubNode } from '../infra/hub-node.js';
import { RoundRobinBalancer } from '../infra/balancer.js';
import { RedisLogTap } from '../infra/redis-log-tap.js';
import { between, sleep } from '../random.js';
import type { ExperimentResult } from '../report.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../../../packages/server/test/helpers/redis.js';
import { Session, type ExperimentOptions } from './session.js';

const TOPICS = ['chaos/a', 'chaos/b', 'chaos/c'] as const;

/**
 * Experiment 2: three `herald serve --redis` nodes behind a round-robin TCP
 * balancer; every few seconds a random node is SIGKILLed and restarted. Clients
 * resume on whichever node the balancer gives them; the shared log must make
 * that seamless (no reset needed while events are retained).
 */
export async function clusterExperiment(options: ExperimentOptions): Promise<ExperimentResult> {
  const prefix = testPrefix();
  const nodes = [0, 1, 2].map((i) => new HubNode(`node${i}`, () => ['--redis', REDIS_URL, '--redis-prefix', prefix, '--history-size', '100000']));
  await Promise.all(nodes.map((n) => n.start()));
  const balancer = await RoundRobinBalancer.start(() => nodes.filter((n) => n.running).map((n) => n.port));
  const tap = new RedisLogTap(REDIS_URL, prefix).start();
  const session = new Session(options);
  let kills = 0;
  try {
    session.subscribe(CLIENT_KINDS, ['chaos/*', 'chaos/a'], () => () => balancer.url);
    await session.waitSubscribed();
    for (let i = 0; i < 3; i++) {
      session.publish({
        name: `p${i}`,
        url: () => balancer.url,
        topics: TOPICS,
        mode: 'until-acked',
        intervalMs: 15,
        attemptTimeoutMs: 2000,
        maxEvents: 1_000_000,
        graceMs: 15_000,
      });
    }
    const killer = (async () => {
      const until = Date.now() + options.durationMs;
      while (Date.now() < until) {
        await sleep(between(options.random, 1500, 3500));
        const node = nodes[Math.floor(options.random() * nodes.length)]!;
        await node.kill();
        kills += 1;
        session.mark(`${node.name} killed`);
        await sleep(between(options.random, 200, 1200));
        await node.start();
        node.restarts += 1;
      }
    })();
    await killer;
    const published = await session.stopPublishing();
    const drained = await session.drain(20_000);
    await tap.stop();
    options.log(`cluster: ${kills} node kills, ${published.acknowledged} events acknowledged, ${published.retries} retries`);
    await session.closeClients();
    return session.result({
      name: 'cluster',
      title: 'three `herald serve --redis` nodes behind a round-robin balancer, a random node SIGKILLed and restarted every 1.5–3.5 s',
      knobs: { durationMs: options.durationMs, subscribersPerKind: options.subscribersPerKind },
      published,
      crashes: nodes.reduce((sum, n) => sum + n.crashes, 0),
      notes: [
        `${kills} node kills; ${published.retries} publish retries; log order read from the Redis stream for ${tap.order.size} events`,
        ...(drained ? [] : ['drain timed out: some subscribers still lacked events after 20 s']),
        ...nodes.flatMap((n) => n.crashLogs),
      ],
      logOrder: tap.order,
    });
  } finally {
    await session.closeClients();
    await tap.stop();
    await balancer.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await dropPrefix(prefix).catch(() => undefined);
  }
}
