import { CLIENT_KINDS } from '../clients/client.js';
import { HubNode } from '../infra/hub-node.js';
import { LifetimeProxy } from '../infra/lifetime-proxy.js';
import type { ExperimentResult } from '../report.js';
import { sleep } from '../random.js';
import { Session, type ExperimentOptions } from './session.js';

const TOPICS = ['chaos/a', 'chaos/b', 'chaos/c'] as const;

/**
 * Experiment 1: every connection, subscribers' and publishers', goes through a
 * proxy that cuts it after a random 0.3–3 s, against one in-memory hub. Every
 * client kind must get each acknowledged event once, in order, or a reset.
 */
export async function cutsExperiment(options: ExperimentOptions): Promise<ExperimentResult> {
  const hub = new HubNode('hub', () => ['--history-size', '100000']);
  await hub.start();
  const proxy = await LifetimeProxy.start(() => hub.port, { minMs: 300, maxMs: 3000, random: options.random });
  const session = new Session(options);
  try {
    session.subscribe(CLIENT_KINDS, ['chaos/*', 'chaos/a'], () => () => proxy.url);
    await session.waitSubscribed();
    for (let i = 0; i < 3; i++) {
      session.publish({ name: `p${i}`, url: () => proxy.url, topics: TOPICS, mode: 'until-acked', intervalMs: 15, attemptTimeoutMs: 2000, maxEvents: 1_000_000, graceMs: 10_000 });
    }
    await sleep(options.durationMs);
    const published = await session.stopPublishing();
    proxy.calm();
    const drained = await session.drain(15_000);
    options.log(`cuts: ${proxy.cuts} connections cut, ${published.acknowledged} events acknowledged, ${published.retries} retries`);
    await session.closeClients();
    return session.result({
      name: 'cuts',
      title: 'random connection cuts (0.3–3 s lifetimes) through a TCP proxy, in-memory hub',
      knobs: { durationMs: options.durationMs, subscribersPerKind: options.subscribersPerKind },
      published,
      faults: proxy.cuts,
      crashes: hub.crashes,
      notes: [`${proxy.cuts} connections cut; ${published.retries} publish retries`, ...(drained ? [] : ['drain timed out: some subscribers still lacked events after 15 s']), ...hub.crashLogs],
    });
  } finally {
    await session.closeClients();
    await proxy.close();
    await hub.stop();
  }
}
