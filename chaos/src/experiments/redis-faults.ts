import { CLIENT_KINDS } from '../clients/client.js';
import type { ChaosClient } from '../clients/client.js';
import { HubNode } from '../infra/hub-node.js';
import { LifetimeProxy } from '../infra/lifetime-proxy.js';
import { RedisLogTap } from '../infra/redis-log-tap.js';
import { PrivateRedis } from '../infra/redis-server.js';
import { sleep } from '../random.js';
import type { ExperimentResult } from '../report.js';
import { CuttableProxy } from '../../../packages/server/test/helpers/proxy.js';
import { Session, type ExperimentOptions } from './session.js';

const TOPICS = ['chaos/a', 'chaos/b', 'chaos/c'] as const;
const PREFIX = 'herald-chaos:';

/** What a fault may touch: the private Redis, node A (direct), node B (through a cuttable proxy to Redis). */
interface FaultContext {
  redis: PrivateRedis;
  /** Between node B and Redis: `down()` partitions B from Redis. */
  link: CuttableProxy;
  a: HubNode;
  b: HubNode;
  options: ExperimentOptions;
  notes: string[];
  /** Records a fault step with its time, for the report. */
  mark: (what: string) => void;
}

/** One Redis fault experiment. */
interface RedisFaultSpec {
  name: string;
  title: string;
  /** Redis `appendonly` (with `appendfsync always`): on, an acknowledged event survives a Redis kill. */
  appendonly: boolean;
  /** Extra `herald serve` flags for both nodes (retention). */
  nodeArgs: string[];
  /** Publishers to node A: how many retry until acknowledged, and how many try once (checking 503 = not published). */
  publishers: { untilAcked: number; once: number; intervalMs: number };
  /** Injects the fault; publishing goes on meanwhile. Resolves when it is over. */
  fault: (context: FaultContext) => Promise<void>;
}

/**
 * Runs one Redis fault: two nodes on a private redis-server (node B reaching it
 * through a proxy that can partition it), subscribers of every kind on both,
 * publishers on A; the fault runs; then publishing stops, the run drains and the
 * subscribers are judged, with the log order read from the stream.
 */
async function runRedisFault(spec: RedisFaultSpec, options: ExperimentOptions): Promise<ExperimentResult> {
  const redis = await PrivateRedis.startFree(spec.appendonly);
  const link = await CuttableProxy.start(redis.port);
  const args = (url: string) => () => ['--redis', url, '--redis-prefix', PREFIX, ...spec.nodeArgs];
  const a = new HubNode('A', args(redis.url));
  const b = new HubNode('B', args(`redis://127.0.0.1:${link.port}`));
  const tap = new RedisLogTap(redis.url, PREFIX, 100).start();
  // Clients of a third group reach node A through a proxy that cuts them every 0.5–2 s,
  // so they resume while the fault is on (a resume during an outage or a stall).
  const cutter = await LifetimeProxy.start(() => a.port, { minMs: 500, maxMs: 2000, random: options.random });
  const session = new Session(options);
  const notes: string[] = [];
  try {
    await Promise.all([a.start(), b.start()]);
    // Every kind on both nodes: A publishes and stays healthy, B is the one faults isolate.
    session.subscribe(CLIENT_KINDS, ['chaos/*', 'chaos/a'], () => () => a.url);
    const onA = new Set(session.clients);
    session.subscribe(CLIENT_KINDS, ['chaos/*', 'chaos/a'], () => () => b.url);
    const onB = new Set(session.clients.filter((c) => !onA.has(c)));
    session.subscribe(CLIENT_KINDS, ['chaos/*', 'chaos/a'], () => () => cutter.url);
    await session.waitSubscribed();
    const { untilAcked, once, intervalMs } = spec.publishers;
    for (let i = 0; i < untilAcked + once; i++) {
      session.publish({
        name: `p${i}`,
        url: () => a.url,
        topics: TOPICS,
        mode: i < untilAcked ? 'until-acked' : 'once',
        intervalMs,
        attemptTimeoutMs: 3000,
        maxEvents: 1_000_000,
        graceMs: 15_000,
      });
    }
    await sleep(Math.min(1000, options.durationMs / 4));
    await spec.fault({ redis, link, a, b, options, notes, mark: (what) => session.mark(what) });
    await sleep(Math.min(1500, options.durationMs / 4));
    const published = await session.stopPublishing();
    cutter.calm();
    const drained = await session.drain(10_000);
    await tap.stop();
    options.log(`${spec.name}: ${published.acknowledged} acknowledged, ${published.refused} refused, ${published.abandoned} abandoned`);
    await session.closeClients();
    const nodeOf = (client: ChaosClient): string => (onA.has(client) ? 'A' : onB.has(client) ? 'B' : 'A, cut');
    return session.result({
      name: spec.name,
      title: spec.title,
      knobs: {
        durationMs: options.durationMs,
        subscribersPerKind: options.subscribersPerKind,
        appendonly: spec.appendonly ? 'yes' : 'no',
        nodeArgs: spec.nodeArgs.join(' ') || '(defaults)',
      },
      published,
      crashes: a.crashes + b.crashes,
      notes: [
        ...notes,
        `${published.abandoned} publishes abandoned (unanswered or answered without a verdict)`,
        ...(drained ? [] : ['drain timed out after 10 s']),
        ...a.crashLogs,
        ...b.crashLogs,
      ],
      logOrder: tap.order,
      groupOf: (client) => `${client.kind} on ${nodeOf(client)}`,
    });
  } finally {
    await session.closeClients();
    await tap.stop();
    await cutter.close();
    await Promise.all([a.stop(), b.stop()]);
    await link.close();
    await redis.destroy();
  }
}

/** SIGSTOPs a node (a stalled process: long GC pause, frozen VM), SIGCONT later. */
function pause(node: HubNode, signal: 'SIGSTOP' | 'SIGCONT'): void {
  if (node.pid !== undefined) process.kill(node.pid, signal);
}

/** The Redis fault experiments of the full run (experiment family 3). */
function redisFaultSpecs(durationMs: number): RedisFaultSpec[] {
  const outage = Math.max(1500, durationMs / 6);
  // Short runs (the npm test versions) inject each fault once.
  const repeats = durationMs >= 10_000 ? 2 : 1;
  return [
    {
      name: 'redis-restart-aof',
      title: 'Redis SIGKILLed and restarted with its data (appendonly, fsync always)',
      appendonly: true,
      nodeArgs: [],
      publishers: { untilAcked: 2, once: 1, intervalMs: 10 },
      fault: async ({ redis, mark }) => {
        for (let i = 0; i < repeats; i++) {
          await redis.kill();
          mark('Redis killed');
          await sleep(outage);
          await redis.start();
          mark('Redis restarted');
          await sleep(outage);
        }
      },
    },
    {
      name: 'redis-restart-empty',
      title: 'Redis SIGKILLed and restarted without its data, node B stalled (SIGSTOP) across it',
      appendonly: false,
      nodeArgs: [],
      publishers: { untilAcked: 2, once: 1, intervalMs: 10 },
      fault: async ({ redis, b, mark }) => {
        pause(b, 'SIGSTOP');
        mark('B stopped');
        try {
          await sleep(outage);
          await redis.kill();
          mark('Redis killed');
          await sleep(outage / 2);
          await redis.start();
          mark('Redis restarted empty');
          await sleep(outage);
        } finally {
          pause(b, 'SIGCONT');
          mark('B continued');
        }
      },
    },
    {
      name: 'partition-retention',
      title: 'node B partitioned from Redis while node A publishes past --history-size 300',
      appendonly: true,
      nodeArgs: ['--history-size', '300'],
      publishers: { untilAcked: 3, once: 0, intervalMs: 5 },
      fault: async ({ link, mark }) => {
        link.down();
        mark('B partitioned');
        await sleep(Math.max(3000, outage * 2));
        link.up();
        mark('B reconnected');
      },
    },
    {
      name: 'partition-age',
      title: 'node B partitioned from Redis past --history-age 2s',
      appendonly: true,
      nodeArgs: ['--history-age', '2s'],
      publishers: { untilAcked: 2, once: 0, intervalMs: 30 },
      fault: async ({ link, mark }) => {
        link.down();
        mark('B partitioned');
        await sleep(Math.max(5000, outage * 2));
        link.up();
        mark('B reconnected');
      },
    },
    {
      name: 'redis-stall',
      title: 'Redis stalled by CLIENT PAUSE 3.5 s; two publishers try each event once (a 503 must mean not published), one retries',
      appendonly: true,
      nodeArgs: [],
      publishers: { untilAcked: 1, once: 2, intervalMs: 10 },
      fault: async ({ redis, mark }) => {
        for (let i = 0; i < repeats; i++) {
          await redis.command('CLIENT', 'PAUSE', 3500, 'ALL');
          mark('Redis paused 3.5 s');
          await sleep(3500 + outage / 2);
        }
      },
    },
  ];
}

/** The Redis fault experiment named `name`, as a runnable experiment. */
export function redisFaultExperiment(name: string): (options: ExperimentOptions) => Promise<ExperimentResult> {
  return (options) => {
    const spec = redisFaultSpecs(options.durationMs).find((s) => s.name === name);
    if (spec === undefined) throw new Error(`no Redis fault experiment ${name}`);
    return runRedisFault(spec, options);
  };
}

/** Names of the Redis fault experiments. */
export const REDIS_FAULTS = ['redis-restart-aof', 'redis-restart-empty', 'partition-retention', 'partition-age', 'redis-stall'] as const;
