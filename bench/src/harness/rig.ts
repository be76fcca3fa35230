/**
 * One measurement setup: the server(s) under test pinned to the server core, the
 * load-generator agents pinned to the generator core, and the measurement of one
 * step (publish, count deliveries, read CPU from /proc).
 */
import { Histogram } from '../lib/histogram.js';
import type { PublishResult, PublishSpec } from '../load/publisher.js';
import type { GroupCounts, TopicSpec } from '../load/subscribers.js';
import { ROOT, sourceAddresses, type Agent, type AgentPool } from './agents.js';
import { coreTimes, cpuMicros, freePort, hardFileLimit, rssBytes, sleep, startPinned, stop, waitHealthy, type Child } from './processes.js';
import { TARGETS, type ServerName, type ServerSettings, type Transport } from './targets.js';

/** Where processes run. */
export interface Placement {
  /** Core of the server(s) under test; undefined: no pinning. */
  serverCore: number | undefined;
  /** Core of the load generator. */
  generatorCore: number | undefined;
}

/** One step's measurements. */
export interface StepResult {
  /** Target events per second (open loop), or null for a closed-loop step. */
  rate: number | null;
  /** Events the publisher sent. */
  sent: number;
  /** Frames expected (events × subscribers of each event). */
  expected: number;
  /** Event frames received. */
  delivered: number;
  /** delivered / expected. */
  fraction: number;
  /** Deliveries per second over the step (publish start to last frame, at least the publish time). */
  deliveriesPerSec: number;
  /** Events per second actually published. */
  eventsPerSec: number;
  /** Server CPU time per delivery, µs (user + system, all server processes). */
  cpuUsPerDelivery: number;
  /** Server CPU use over the step, percent of one core. */
  serverCpuPercent: number;
  /** Load-generator CPU use over the step, percent of one core (all agents). */
  generatorCpuPercent: number;
  /**
   * How busy the server's core was, percent, whoever used it. Well above
   * `serverCpuPercent` means other work (or kernel softirq time for our own
   * loopback traffic) shared the core during the step.
   */
  serverCoreBusyPercent: number | null;
  /** Publish-to-receive latency on sampled connections, ms. */
  latency: { samples: number; p50: number; p99: number; max: number };
  /** Publisher kept to its schedule (open loop). */
  onSchedule: boolean;
  publisherMaxLagMs: number;
  /** Server acknowledgements of publishes. */
  acked: number;
  wallMs: number;
}

/** Options of a rig. */
export interface RigOptions {
  placement: Placement;
  /** Where the rig gets its load-generator agents. */
  pool: AgentPool;
  /** One server, or several (Redis mode). */
  server: ServerName;
  nodes?: number;
  heartbeatMs?: number;
  redis?: { url: string; prefix: string };
}

/**
 * Extra node flags for every server process, from BENCH_SERVER_NODE_ARGS, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the hub during a scenario.
 * Servers are then stopped with SIGTERM (so the profile is written), not SIGKILL.
 */
const SERVER_NODE_ARGS = (process.env['BENCH_SERVER_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');

/** Connections one agent holds at most (it needs a file descriptor for each). */
const PER_AGENT = Math.min(15_000, hardFileLimit() - 200);

/** A running setup. */
export class Rig {
  readonly options: RigOptions;
  readonly servers: Array<{ child: Child; port: number }> = [];
  readonly subscriberAgents: Agent[] = [];
  publisherAgent: Agent | undefined;
  /** Subscribers that receive each event of the current publisher, for `expected`. */
  perEvent = 0;
  readonly #groups: Array<{ agent: Agent; group: string }> = [];

  private constructor(options: RigOptions) {
    this.options = options;
  }

  /** Starts the server(s) and waits until healthy. */
  static async start(options: RigOptions): Promise<Rig> {
    const rig = new Rig(options);
    try {
      for (let i = 0; i < (options.nodes ?? 1); i++) {
        const port = await freePort();
        const settings: ServerSettings = {
          port,
          heartbeatMs: options.heartbeatMs ?? 25_000,
          ...(options.redis === undefined ? {} : { redis: options.redis }),
        };
        const child = startPinned([...SERVER_NODE_ARGS, ...TARGETS[options.server].args(settings)], { core: options.placement.serverCore, cwd: ROOT });
        rig.servers.push({ child, port });
        await waitHealthy(child, port);
      }
    } catch (error) {
      await rig.close();
      throw error;
    }
    return rig;
  }

  get serverPids(): number[] {
    return this.servers.map((s) => s.child.pid);
  }

  serverCpu(): number {
    return this.serverPids.reduce((sum, pid) => sum + cpuMicros(pid), 0);
  }

  serverRss(index = 0): number {
    return rssBytes(this.servers[index]!.child.pid);
  }

  #agentsCpu(): number {
    return [...this.subscriberAgents, ...(this.publisherAgent === undefined ? [] : [this.publisherAgent])].reduce((sum, a) => sum + a.cpu(), 0);
  }

  /**
   * Opens `count` subscribers over `transport` on server `node`, spread over as many
   * agents as their file descriptors need. Returns how many became ready.
   */
  async subscribe(
    transport: Transport,
    count: number,
    topics: TopicSpec,
    options: { sampleEvery: number; node?: number; name?: string; timeoutMs?: number; concurrency?: number },
  ): Promise<{ ready: number; failed: number; ms: number }> {
    const target = TARGETS[this.options.server];
    const how = target.subscribe[transport];
    if (how === undefined) throw new Error(`${target.label} has no ${transport} transport`);
    const port = this.servers[options.node ?? 0]!.port;
    const agentsNeeded = Math.max(1, Math.ceil(count / PER_AGENT));
    while (this.subscriberAgents.length < agentsNeeded) this.subscriberAgents.push(this.options.pool.acquire());
    const started = Date.now();
    const shares = await Promise.all(
      this.subscriberAgents.slice(0, agentsNeeded).map((agent, a) => {
        const share = Math.floor(count / agentsNeeded) + (a < count % agentsNeeded ? 1 : 0);
        const group = `${options.name ?? transport}-${this.#groups.length}`;
        this.#groups.push({ agent, group });
        // Offset topic indexes so a "spread" spec covers every topic exactly once across agents.
        const offset = a * Math.floor(count / agentsNeeded) + Math.min(a, count % agentsNeeded);
        const spread: TopicSpec = topics.kind === 'spread' ? { kind: 'spread', prefix: topics.prefix, count: topics.count } : topics;
        return agent.request<{ ready: number; failed: number }>(
          {
            op: 'subscribe',
            group,
            spec: {
              wire: how.wire,
              host: '127.0.0.1',
              port,
              path: how.path,
              count: share,
              topics: spread,
              topicOffset: offset,
              localAddresses: sourceAddresses(Math.max(1, Math.ceil(share / 20_000))),
              concurrency: options.concurrency ?? 200,
              sampleEvery: options.sampleEvery,
              timeoutMs: options.timeoutMs ?? 60_000,
            },
          },
          (options.timeoutMs ?? 60_000) + 10_000,
        );
      }),
    );
    return {
      ready: shares.reduce((sum, s) => sum + s.ready, 0),
      failed: shares.reduce((sum, s) => sum + s.failed, 0),
      ms: Date.now() - started,
    };
  }

  /** Opens the publisher on server `node` with the server's WebSocket publish API, or HTTP. */
  async openPublisher(topics: TopicSpec, options: { node?: number; http?: { batch: number; connections: number } } = {}): Promise<void> {
    this.publisherAgent ??= this.options.pool.acquire();
    const target = TARGETS[this.options.server];
    const port = this.servers[options.node ?? 0]!.port;
    const spec: PublishSpec =
      options.http === undefined
        ? { mode: target.publish.mode, host: '127.0.0.1', port, path: target.publish.path, topics, batch: 1, connections: 1, window: 1, durationMs: 0 }
        : {
            mode: 'http',
            host: '127.0.0.1',
            port,
            path: '/publish',
            topics,
            batch: options.http.batch,
            connections: options.http.connections,
            window: 1,
            durationMs: 0,
          };
    await this.publisherAgent.request({ op: 'publisher', spec: { ...spec, localAddress: sourceAddresses(1)[0]! } }, 30_000);
  }

  /** Sums the counts of every subscriber group (or of the named ones). */
  async counts(
    filter?: (group: string) => boolean,
  ): Promise<{ frames: number; ready: number; open: number; dropped: number; failed: number; heartbeats: number; latency: Histogram }> {
    const latency = new Histogram();
    const total = { frames: 0, ready: 0, open: 0, dropped: 0, failed: 0, heartbeats: 0, latency };
    const seen = new Set<Agent>();
    for (const { agent } of this.#groups) {
      if (seen.has(agent)) continue;
      seen.add(agent);
      const counts = await agent.counts();
      for (const [name, c] of Object.entries(counts) as Array<[string, GroupCounts]>) {
        if (filter !== undefined && !filter(name)) continue;
        total.frames += c.frames;
        total.ready += c.ready;
        total.open += c.open;
        total.dropped += c.dropped;
        total.failed += c.failed;
        total.heartbeats += c.heartbeats;
        latency.merge(c.latency);
      }
    }
    return total;
  }

  async reset(): Promise<void> {
    await Promise.all(this.subscriberAgents.map((agent) => agent.request({ op: 'reset' }, 10_000)));
  }

  /** Waits until no frame has arrived for `quietMs` (bounded), so steps do not overlap. */
  async quiesce(quietMs = 200, maxMs = 15_000): Promise<void> {
    const deadline = Date.now() + maxMs;
    let last = -1;
    let since = Date.now();
    while (Date.now() < deadline) {
      const { frames } = await this.counts();
      if (frames !== last) {
        last = frames;
        since = Date.now();
      } else if (Date.now() - since >= quietMs) return;
      await sleep(50);
    }
  }

  /**
   * One step: publish as `step` says, then wait (at most `drainMs` after the last
   * publish) until every expected frame has arrived or arrivals stall.
   */
  async step(step: { rate?: number; window: number; durationMs: number; batch?: number }, drainMs: number): Promise<StepResult> {
    const publisher = this.publisherAgent;
    if (publisher === undefined) throw new Error('openPublisher first');
    await this.quiesce();
    await this.reset();
    const cpu0 = this.serverCpu();
    const gen0 = this.#agentsCpu();
    const core = this.options.placement.serverCore;
    const core0 = core === undefined ? undefined : coreTimes(core);
    const t0 = Date.now();
    const published: PublishResult = await publisher.publish({
      ...(step.rate === undefined ? {} : { rate: step.rate }),
      window: step.window,
      durationMs: step.durationMs,
      batch: step.batch ?? 1,
    });
    const expected = published.sent * this.perEvent;
    const publishEnd = Date.now();
    const deadline = publishEnd + drainMs;
    let counts = await this.counts();
    let lastFrameAt = Date.now();
    let last = counts.frames;
    while (counts.frames < expected && Date.now() < deadline) {
      await sleep(20);
      counts = await this.counts();
      if (counts.frames !== last) {
        last = counts.frames;
        lastFrameAt = Date.now();
      } else if (Date.now() - lastFrameAt > 1000) break; // stalled
    }
    if (counts.frames >= expected) lastFrameAt = Math.min(lastFrameAt, Date.now());
    const cpu = this.serverCpu() - cpu0;
    const gen = this.#agentsCpu() - gen0;
    const core1 = core === undefined ? undefined : coreTimes(core);
    const coreBusy =
      core0 === undefined || core1 === undefined || core1.total === core0.total
        ? null
        : Math.round(((core1.busy - core0.busy) * 100) / (core1.total - core0.total));
    const wallMs = Math.max(1, Date.now() - t0);
    const activeMs = Math.max(step.durationMs, lastFrameAt - t0, 1);
    const summary = counts.latency.summary();
    return {
      rate: step.rate ?? null,
      sent: published.sent,
      expected,
      delivered: counts.frames,
      fraction: expected === 0 ? 0 : counts.frames / expected,
      deliveriesPerSec: Math.round((counts.frames * 1000) / activeMs),
      eventsPerSec: Math.round((published.sent * 1000) / Math.max(step.durationMs, published.elapsedMs)),
      cpuUsPerDelivery: counts.frames === 0 ? 0 : round2(cpu / counts.frames),
      serverCpuPercent: Math.round(cpu / (wallMs * 10)),
      generatorCpuPercent: Math.round(gen / (wallMs * 10)),
      serverCoreBusyPercent: coreBusy,
      latency: { samples: summary.samples, p50: summary.p50, p99: summary.p99, max: summary.max },
      onSchedule: published.onSchedule,
      publisherMaxLagMs: Math.round(published.maxLagMs * 10) / 10,
      acked: published.acked,
      wallMs,
    };
  }

  /** Gives the agents back (their connections closed), then kills the servers (whole process groups). */
  async close(): Promise<void> {
    const agents = [...this.subscriberAgents, ...(this.publisherAgent === undefined ? [] : [this.publisherAgent])];
    await this.options.pool.release(agents);
    await Promise.all(this.servers.map((s) => stop(s.child, SERVER_NODE_ARGS.length > 0 ? 'SIGTERM' : 'SIGKILL')));
  }
}

export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
