/**
 * Scenario 7: three Herald nodes sharing one Redis log. Subscribers are spread over
 * the nodes, events are published on node 0, and latency is reported per node, so
 * the cost of crossing Redis shows (node 0 also goes through Redis: every node,
 * the publishing one included, delivers from its tail of the shared stream).
 */
import { randomUUID } from 'node:crypto';
import { Rig, type StepResult } from '../harness/rig.js';
import { deletePrefix, redisAvailable } from '../lib/redis.js';
import { guarded, type Context } from './context.js';

/** Redis the scenario uses. */
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** One rate step, overall and per node. */
interface RedisStep {
  overall: StepResult;
  byNode: Array<{ node: number; delivered: number; p50: number; p99: number; max: number }>;
}

/** Scenario 7's result. */
export interface RedisRun {
  nodes: number;
  subscribers: number;
  connected: number;
  steps: RedisStep[];
  /** Why it did not run, when it did not. */
  skipped: string | null;
  keysDeleted: number;
  error?: string;
}

/** Scenario 7. */
export async function redisScenario(ctx: Context): Promise<RedisRun> {
  const plan = ctx.config.redis;
  const run: RedisRun = { nodes: plan.nodes, subscribers: plan.subscribers, connected: 0, steps: [], skipped: null, keysDeleted: 0 };
  if (!ctx.config.servers.includes('herald')) return { ...run, skipped: 'Herald is not among the servers of this run' };
  if (!(await redisAvailable(REDIS_URL))) return { ...run, skipped: `no Redis answers at ${REDIS_URL}` };
  const prefix = `herald-bench:${randomUUID()}:`;
  const result = await guarded(
    ctx,
    'redis',
    async () => {
      const rig = await Rig.start({ placement: ctx.placement, pool: ctx.pool, server: 'herald', nodes: plan.nodes, redis: { url: REDIS_URL, prefix } });
      try {
        const topics = { kind: 'single' as const, topic: 'bench' };
        for (let node = 0; node < plan.nodes; node++) {
          const share = Math.floor(plan.subscribers / plan.nodes) + (node < plan.subscribers % plan.nodes ? 1 : 0);
          const opened = await rig.subscribe('ws', share, topics, { sampleEvery: Math.max(1, Math.floor(share / 30)), node, name: `node${node}` });
          run.connected += opened.ready;
        }
        if (run.connected < plan.subscribers) throw new Error(`only ${run.connected} of ${plan.subscribers} subscribers connected`);
        rig.perEvent = plan.subscribers;
        await rig.openPublisher(topics, { node: 0 });
        await rig.step({ window: 1, durationMs: 500 }, 2000);
        for (const rate of plan.rates) {
          const overall = await rig.step({ rate, window: 1, durationMs: plan.stepMs }, plan.latencyLimitMs + 1000);
          const byNode: RedisStep['byNode'] = [];
          for (let node = 0; node < plan.nodes; node++) {
            const c = await rig.counts((group) => group.startsWith(`node${node}-`));
            const s = c.latency.summary();
            byNode.push({ node, delivered: c.frames, p50: s.p50, p99: s.p99, max: s.max });
          }
          run.steps.push({ overall, byNode });
          ctx.log(
            `  Herald ×${plan.nodes} on Redis, ${rate} ev/s to ${plan.subscribers}: ${overall.deliveriesPerSec.toLocaleString('en-US')} deliveries/s, ` +
              `${(overall.fraction * 100).toFixed(1)}% delivered, p50 ${overall.latency.p50} ms, p99 ${overall.latency.p99} ms ` +
              `(per node p99: ${byNode.map((n) => n.p99).join(' / ')} ms), ${overall.cpuUsPerDelivery} µs CPU/delivery (all nodes)`,
          );
          if (overall.fraction < 0.5) break;
        }
        return run;
      } finally {
        await rig.close();
      }
    },
    run,
  );
  // The run's keys go whatever happened (the prefix is unique to this run).
  result.keysDeleted = await deletePrefix(REDIS_URL, prefix).catch(() => 0);
  return result;
}
