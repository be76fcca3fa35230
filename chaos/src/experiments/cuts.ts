import { CLIENT_KINDS } from '../clients/client.js';
import { HubNode } from '../infra/hub-node.js';
import { LifetimeProxy } from '../infra/lifetime-proxy.js';
import type { ExperimentResult } from '../report.js';
import { between, sleep } from '../random.js';
import { Session, type ExperimentOptions } from './session.js';

const TOPICS = ['chaos/a', 'chaos/b', 'chaos/c'] as const;

/**
 * Experiment 1: every connection, subscribers' and publishers', goes through a
 * proxy that cuts it after a random 0.3–3 s, against one in-memory hub. Every few
 * seconds the subscribers' proxy also has a 1.5–3 s outage, so resumes replay
 * backlogs of tens of KiB, not only a few events. Every client kind must get each
 * acknowledged event once, in order, or a reset.
 */
export async function cutsExperiment(options: ExperimentOptions): Promise<ExperimentResult> {
  const hub = new HubNode('hub', () => ['--history-size', '100000']);
  await hub.start();
  const proxy = await LifetimeProxy.start(() => hub.port, { minMs: 300, maxMs: 3000, random: options.random });
  const publishers = await LifetimeProxy.start(() => hub.port, { minMs: 300, maxMs: 3000, random: options.random });
  const session = new Session(options);
  try {
    session.subscribe(CLIENT_KINDS, ['chaos/*', 'chaos/a'], () => () => proxy.url);
    await session.waitSubscribed();
    for (let i = 0; i < 3; i++) {
      session.publish({
        name: `p${i}`,
        url: () => publishers.url,
        topics: TOPICS,
        mode: 'until-acked',
        intervalMs: 5,
        attemptTimeoutMs: 2000,
        maxEvents: 1_000_000,
        graceMs: 10_000,
        padBytes: 256,
      });
    }
    const until = Date.now() + options.durationMs;
    while (Date.now() < until) {
      await sleep(Math.min(until - Date.now(), between(options.random, 1000, 4000)));
      if (Date.now() >= until) break;
      const ms = between(options.random, 1500, 3000);
      proxy.outage(ms);
      session.mark(`outage ${Math.round(ms)} ms`);
      await sleep(ms);
    }
    const published = await session.stopPublishing();
    proxy.calm();
    publishers.calm();
    const drained = await session.drain(15_000);
    const cuts = proxy.cuts + publishers.cuts;
    options.log(`cuts: ${cuts} connections cut, ${proxy.outages} outages, ${published.acknowledged} events acknowledged, ${published.retries} retries`);
    await session.closeClients();
    return session.result({
      name: 'cuts',
      title: 'random connection cuts (0.3–3 s lifetimes) and 1.5–3 s subscriber outages through TCP proxies, in-memory hub',
      knobs: { durationMs: options.durationMs, subscribersPerKind: options.subscribersPerKind },
      published,
      faults: cuts + proxy.outages,
      crashes: hub.crashes,
      notes: [
        `${cuts} connections cut, ${proxy.outages} subscriber outages; ${published.retries} publish retries`,
        ...(drained ? [] : ['drain timed out: some subscribers still lacked events after 15 s']),
        ...hub.crashLogs,
      ],
    });
  } finally {
    await session.closeClients();
    await proxy.close();
    await publishers.close();
    await hub.stop();
  }
}
