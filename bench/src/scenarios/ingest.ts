/**
 * Scenario 6: events accepted per second, with no subscribers, through `POST
 * /publish` (one event per request, and batches) and through WebSocket publish
 * (Herald's `publish` message; Socket.IO `emit` with an acknowledgement). Closed
 * loop: each connection keeps a fixed number of requests in flight.
 */
import { Histogram } from '../lib/histogram.js';
import type { PublishResult } from '../load/publisher.js';
import { Rig, round2 } from '../harness/rig.js';
import { TARGETS, type ServerName } from '../harness/targets.js';
import { guarded, type Context } from './context.js';

/** How events are sent in one ingest measurement. */
type IngestMode = 'http-single' | 'http-batch' | 'ws';

/** One server × mode. */
export interface IngestRun {
  server: ServerName;
  mode: IngestMode;
  /** Events per request. */
  batch: number;
  /** Connections × requests in flight on each. */
  connections: number;
  inFlight: number;
  eventsPerSec: number;
  cpuUsPerEvent: number;
  serverCpuPercent: number;
  /** Request round trip, ms. */
  ackP50: number;
  ackP99: number;
  errors: number;
  error?: string;
}

/** Scenario 6. */
export async function ingestScenario(ctx: Context): Promise<IngestRun[]> {
  const plan = ctx.config.ingest;
  const runs: IngestRun[] = [];
  const modes: Array<{ mode: IngestMode; batch: number; connections: number; inFlight: number }> = [
    { mode: 'http-single', batch: 1, connections: plan.httpConnections, inFlight: 1 },
    { mode: 'http-batch', batch: plan.batch, connections: 4, inFlight: 1 },
    { mode: 'ws', batch: 1, connections: 1, inFlight: plan.wsWindow },
  ];
  for (const server of ctx.config.servers) {
    const rig = await guarded(ctx, `${server} ingest start`, async () => ({ rig: await Rig.start({ placement: ctx.placement, pool: ctx.pool, server }) }), {
      rig: undefined as Rig | undefined,
    });
    if (rig.rig === undefined) continue;
    try {
      for (const m of modes) {
        const run: IngestRun = { server, ...m, eventsPerSec: 0, cpuUsPerEvent: 0, serverCpuPercent: 0, ackP50: 0, ackP99: 0, errors: 0 };
        runs.push(
          await guarded(
            ctx,
            `${server} ingest ${m.mode}`,
            async () => {
              const r = rig.rig!;
              const topics = { kind: 'single' as const, topic: 'ingest' };
              await r.openPublisher(topics, m.mode === 'ws' ? {} : { http: { batch: m.batch, connections: m.connections } });
              const publisher = r.publisherAgent!;
              await publisher.publish({ window: m.inFlight, durationMs: Math.min(300, plan.durationMs), batch: m.batch }); // warm-up
              const cpu0 = r.serverCpu();
              const t0 = Date.now();
              const result: PublishResult = await publisher.publish({ window: m.inFlight, durationMs: plan.durationMs, batch: m.batch });
              const wallMs = Date.now() - t0;
              const cpu = r.serverCpu() - cpu0;
              const latency = new Histogram();
              latency.merge(result.ackLatency);
              const summary = latency.summary();
              run.eventsPerSec = Math.round((result.acked * 1000) / Math.max(1, result.elapsedMs));
              run.cpuUsPerEvent = round2(cpu / Math.max(1, result.acked));
              run.serverCpuPercent = Math.round(cpu / (wallMs * 10));
              run.ackP50 = summary.p50;
              run.ackP99 = summary.p99;
              run.errors = result.errors;
              ctx.log(
                `  ${TARGETS[server].label} ${m.mode}${m.batch > 1 ? ` ×${m.batch}` : ''}: ${run.eventsPerSec.toLocaleString('en-US')} events/s, ` +
                  `${run.cpuUsPerEvent} µs CPU/event, ack p50 ${run.ackP50} ms p99 ${run.ackP99} ms, server ${run.serverCpuPercent}%${run.errors > 0 ? `, ${run.errors} errors` : ''}`,
              );
              return run;
            },
            run,
          ),
        );
      }
    } finally {
      await rig.rig.close();
    }
  }
  return runs;
}
