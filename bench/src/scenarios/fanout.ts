/**
 * Scenarios 1, 2 and 3: fan-out of one event at a time to many subscribers of one
 * topic, fan-out at high event rates, and many topics with one subscriber each.
 *
 * Scenarios 1 and 3 first run a saturation probe (closed loop: the next publish
 * leaves when the server acknowledges the previous ones), which measures the most
 * the server can fan out and its CPU per delivery. Then open-loop steps at fixed
 * fractions of that rate find the highest rate that keeps up: at least 95% of the
 * frames delivered, the publisher on schedule, p99 under the limit.
 */
import type { Ladder } from '../config.js';
import { Rig, type StepResult } from '../harness/rig.js';
import { TARGETS, type ServerName, type Transport } from '../harness/targets.js';
import type { TopicSpec } from '../load/subscribers.js';
import { guarded, type Context } from './context.js';

/** One server × transport × size, probed and then stepped. */
export interface LadderRun {
  server: ServerName;
  transport: Transport;
  subscribers: number;
  topics: number;
  connected: number;
  connectMs: number;
  latencyLimitMs: number;
  probe: StepResult | null;
  steps: StepResult[];
  /** The highest step that kept up, or null. */
  best: StepResult | null;
  error?: string;
}

/** One server × transport of scenario 2. */
export interface RateRun {
  server: ServerName;
  transport: Transport;
  subscribers: number;
  connected: number;
  steps: StepResult[];
  /** Most deliveries per second in any step. */
  peakDeliveriesPerSec: number;
  error?: string;
}

/** True when no step failed at or above the best rate (the search ended on its step limit): `best` is then a lower bound. */
export function searchCapped(run: LadderRun): boolean {
  const best = run.best?.rate;
  if (best === null || best === undefined) return false;
  return !run.steps.some((step) => (step.rate ?? 0) >= best && !keptUp(step, run.latencyLimitMs));
}

/** True when a step kept up: ≥95% delivered, publisher on schedule, p99 under the limit. */
function keptUp(step: StepResult, latencyLimitMs: number): boolean {
  return step.fraction >= 0.95 && step.onSchedule && step.latency.p99 < latencyLimitMs;
}

function describe(step: StepResult): string {
  const rate = step.rate === null ? 'probe' : `${step.rate} ev/s`;
  return (
    `${rate.padStart(10)}: ${step.deliveriesPerSec.toLocaleString('en-US')} deliveries/s, ` +
    `${(step.fraction * 100).toFixed(1)}% delivered, ${step.cpuUsPerDelivery} µs CPU/delivery, ` +
    `p50 ${step.latency.p50} ms, p99 ${step.latency.p99} ms, server ${step.serverCpuPercent}% (core ${step.serverCoreBusyPercent ?? '?'}% busy) / generator ${step.generatorCpuPercent}%` +
    (step.onSchedule ? '' : ', publisher late')
  );
}

/** Which servers of the run (narrowed to `only` when given) support a transport. */
export function serversWith(ctx: Context, transport: Transport, only?: readonly ServerName[]): ServerName[] {
  return ctx.config.servers.filter((name) => TARGETS[name].subscribe[transport] !== undefined && (only === undefined || only.includes(name)));
}

async function probeAndLadder(
  ctx: Context,
  server: ServerName,
  transport: Transport,
  subscribers: number,
  topics: TopicSpec,
  plan: { warmMs: number; probeMs: number; stepMs: number; ladder: Ladder; window: number; latencyLimitMs: number; sampleEvery: number },
): Promise<LadderRun> {
  const topicCount = topics.kind === 'single' ? 1 : topics.count;
  const run: LadderRun = {
    server,
    transport,
    subscribers,
    topics: topicCount,
    connected: 0,
    connectMs: 0,
    latencyLimitMs: plan.latencyLimitMs,
    probe: null,
    steps: [],
    best: null,
  };
  return guarded(
    ctx,
    `${server} ${transport} ${subscribers}`,
    async () => {
      const rig = await Rig.start({ placement: ctx.placement, pool: ctx.pool, server });
      try {
        const opened = await rig.subscribe(transport, subscribers, topics, { sampleEvery: plan.sampleEvery });
        run.connected = opened.ready;
        run.connectMs = opened.ms;
        if (opened.ready < subscribers) throw new Error(`only ${opened.ready} of ${subscribers} subscribers connected`);
        // Each event reaches the subscribers of its topic.
        rig.perEvent = subscribers / topicCount;
        await rig.openPublisher(topics);
        const drainMs = plan.latencyLimitMs + 1000;
        if (plan.warmMs > 0) await rig.step({ window: plan.window, durationMs: plan.warmMs }, drainMs);
        run.probe = await rig.step({ window: plan.window, durationMs: plan.probeMs }, drainMs);
        if (run.probe.delivered === 0) throw new Error(`no event reached a subscriber (${run.probe.acked} of ${run.probe.sent} publishes acknowledged)`);
        ctx.log(`  ${TARGETS[server].label} ${transport} ×${subscribers}: ${describe(run.probe)}`);
        const label = `  ${' '.repeat(TARGETS[server].label.length)} ${transport} ×${subscribers}: `;
        const attempt = async (rate: number): Promise<boolean> => {
          const step = await rig.step({ rate, window: 1, durationMs: plan.stepMs }, drainMs);
          run.steps.push(step);
          ctx.log(label + describe(step));
          const passed = keptUp(step, plan.latencyLimitMs);
          if (passed && (run.best === null || step.deliveriesPerSec > run.best.deliveriesPerSec)) run.best = step;
          return passed;
        };
        await searchRate(run.probe.eventsPerSec, plan.ladder, attempt);
        return run;
      } finally {
        await rig.close();
      }
    },
    run,
  );
}

/**
 * The ladder search (see {@link Ladder}): calls `attempt(rate)` with rising rates,
 * retrying a failure once, then bisects. Bounded by `ladder.maxSteps` attempts.
 */
async function searchRate(probeRate: number, ladder: Ladder, attempt: (rate: number) => Promise<boolean>): Promise<void> {
  let steps = 0;
  const tryRate = async (rate: number): Promise<boolean> => {
    if (steps >= ladder.maxSteps) return false;
    steps++;
    if (await attempt(rate)) return true;
    if (steps >= ladder.maxSteps) return false;
    steps++;
    return attempt(rate);
  };
  let rate = Math.max(1, Math.round(probeRate * ladder.start));
  let pass: number | undefined;
  let fail: number | undefined;
  while (steps < ladder.maxSteps && fail === undefined) {
    if (await tryRate(rate)) {
      pass = rate;
      rate = Math.max(rate + 1, Math.round(rate * ladder.growth));
    } else fail = rate;
  }
  // Nothing passed: look lower (bounded), once or twice.
  for (let down = 0; pass === undefined && fail !== undefined && down < 2 && steps < ladder.maxSteps; down++) {
    rate = Math.max(1, Math.round(fail * 0.6));
    if (rate === fail) break;
    if (await tryRate(rate)) pass = rate;
    else fail = rate;
  }
  for (let b = 0; b < ladder.bisect && pass !== undefined && fail !== undefined && steps < ladder.maxSteps; b++) {
    const middle = Math.round((pass + fail) / 2);
    if (middle === pass || middle === fail) break;
    if (await tryRate(middle)) pass = middle;
    else fail = middle;
  }
}

/** Scenario 1: one topic, 2,000 and 10,000 subscribers, rate stepped up. */
export async function fanoutScenario(ctx: Context): Promise<LadderRun[]> {
  const plan = ctx.config.fanout;
  const runs: LadderRun[] = [];
  for (const size of plan.sizes) {
    for (const transport of size.transports) {
      for (const server of serversWith(ctx, transport)) {
        runs.push(
          await probeAndLadder(
            ctx,
            server,
            transport,
            size.subscribers,
            { kind: 'single', topic: 'bench' },
            {
              ...plan,
              window: 1,
              latencyLimitMs: size.latencyLimitMs,
              sampleEvery: Math.max(1, Math.floor(size.subscribers / 100)),
            },
          ),
        );
      }
    }
  }
  return runs;
}

/** Scenario 3: many topics, one subscriber each, events spread over them. */
export async function manyTopicsScenario(ctx: Context): Promise<LadderRun[]> {
  const plan = ctx.config.manyTopics;
  const runs: LadderRun[] = [];
  for (const transport of plan.transports) {
    for (const server of serversWith(ctx, transport, plan.servers)) {
      runs.push(
        await probeAndLadder(
          ctx,
          server,
          transport,
          plan.topics,
          { kind: 'spread', prefix: 'bench/', count: plan.topics },
          {
            ...plan,
            warmMs: 500,
            sampleEvery: 10,
          },
        ),
      );
    }
  }
  return runs;
}

/** Scenario 2: 1,000 subscribers, event rate stepped from 100 to 2,000 per second. */
export async function highRateScenario(ctx: Context): Promise<RateRun[]> {
  const plan = ctx.config.highRate;
  const runs: RateRun[] = [];
  for (const transport of plan.transports) {
    for (const server of serversWith(ctx, transport, plan.servers)) {
      const run: RateRun = { server, transport, subscribers: plan.subscribers, connected: 0, steps: [], peakDeliveriesPerSec: 0 };
      runs.push(
        await guarded(
          ctx,
          `${server} ${transport} high rate`,
          async () => {
            const rig = await Rig.start({ placement: ctx.placement, pool: ctx.pool, server });
            try {
              const topics: TopicSpec = { kind: 'single', topic: 'bench' };
              const opened = await rig.subscribe(transport, plan.subscribers, topics, { sampleEvery: Math.max(1, Math.floor(plan.subscribers / 50)) });
              run.connected = opened.ready;
              if (opened.ready < plan.subscribers) throw new Error(`only ${opened.ready} of ${plan.subscribers} subscribers connected`);
              rig.perEvent = plan.subscribers;
              await rig.openPublisher(topics);
              const warm = await rig.step({ window: 1, durationMs: 500 }, 2000);
              if (warm.delivered === 0) throw new Error(`no event reached a subscriber (${warm.acked} of ${warm.sent} publishes acknowledged)`);
              for (const rate of plan.rates) {
                const step = await rig.step({ rate, window: 1, durationMs: plan.stepMs }, plan.latencyLimitMs + 1000);
                run.steps.push(step);
                run.peakDeliveriesPerSec = Math.max(run.peakDeliveriesPerSec, step.deliveriesPerSec);
                ctx.log(`  ${TARGETS[server].label} ${transport} ×${plan.subscribers}: ${describe(step)}`);
                // Far behind: the server has a backlog that would spill into every later step.
                if (step.fraction < 0.5) break;
              }
              return run;
            } finally {
              await rig.close();
            }
          },
          run,
        ),
      );
    }
  }
  return runs;
}
