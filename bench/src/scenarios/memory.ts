/**
 * Scenarios 4 and 5: memory per idle connection, and holding as many connections as
 * one process may for a while, with heartbeats, without dropping any.
 */
import { httpGet, sleep } from '../harness/processes.js';
import { Rig } from '../harness/rig.js';
import { TARGETS, type ServerName, type Transport } from '../harness/targets.js';
import { guarded, type Context } from './context.js';
import { serversWith } from './fanout.js';

/** File descriptors a server keeps for itself (listener, epoll, pipes, stdio, loader threads). */
const SERVER_OWN_FDS = 150;

/** Scenario 4, one server × transport. */
export interface IdleRun {
  server: ServerName;
  transport: Transport;
  requested: number;
  connections: number;
  /** What capped `connections` below `requested`, if anything. */
  limitedBy: string | null;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  bytesPerConnection: number;
  error?: string;
}

/** Scenario 5, one server. */
export interface CapacityRun {
  server: ServerName;
  requested: number;
  attempted: number;
  limitedBy: string | null;
  connected: number;
  /** Connections open at the end of the hold, as the load generator sees them. */
  openAtEnd: number;
  /** Connections the server itself reports at the end (Herald's /metrics), or null. */
  serverReported: number | null;
  dropped: number;
  failed: number;
  holdS: number;
  heartbeatMs: number;
  /** Heartbeats received per connection during the hold (Herald heartbeats, engine.io pings). */
  heartbeatsPerConnection: number;
  rssBytes: number;
  /** Server CPU during the hold, percent of one core. */
  serverCpuPercent: number;
  connectMs: number;
  error?: string;
}

/** How many connections one server process can hold here, and why not more. */
function connectionCap(ctx: Context, requested: number): { count: number; limitedBy: string | null } {
  const cap = ctx.fdLimit - SERVER_OWN_FDS;
  if (requested <= cap) return { count: requested, limitedBy: null };
  return {
    count: cap,
    limitedBy: `open-file limit: the hard RLIMIT_NOFILE of this machine is ${ctx.fdLimit} per process (each connection is a file descriptor)`,
  };
}

/** Scenario 4: RSS per idle connection, each connection on its own topic. */
export async function idleScenario(ctx: Context): Promise<IdleRun[]> {
  const plan = ctx.config.idle;
  const { count, limitedBy } = connectionCap(ctx, plan.connections);
  const runs: IdleRun[] = [];
  for (const transport of plan.transports) {
    for (const server of serversWith(ctx, transport, plan.servers)) {
      const run: IdleRun = {
        server,
        transport,
        requested: plan.connections,
        connections: 0,
        limitedBy,
        rssBeforeBytes: 0,
        rssAfterBytes: 0,
        bytesPerConnection: 0,
      };
      runs.push(
        await guarded(
          ctx,
          `${server} ${transport} idle`,
          async () => {
            const rig = await Rig.start({ placement: ctx.placement, pool: ctx.pool, server });
            try {
              await sleep(plan.settleMs);
              run.rssBeforeBytes = rig.serverRss();
              const opened = await rig.subscribe(transport, count, { kind: 'spread', prefix: 'idle/', count }, { sampleEvery: 0 });
              run.connections = opened.ready;
              await sleep(plan.settleMs);
              run.rssAfterBytes = rig.serverRss();
              run.bytesPerConnection = Math.round((run.rssAfterBytes - run.rssBeforeBytes) / Math.max(1, opened.ready));
              ctx.log(`  ${TARGETS[server].label} ${transport}: ${opened.ready} idle connections, ${(run.bytesPerConnection / 1024).toFixed(1)} KiB RSS each`);
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

async function heraldConnections(port: number): Promise<number | null> {
  try {
    const { body } = await httpGet(port, '/metrics', 5000);
    let total = 0;
    for (const match of body.matchAll(/^herald_connections\{transport="(?:sse|ws)"\} (\d+)/gm)) total += Number(match[1]);
    return total;
  } catch {
    return null;
  }
}

/** Scenario 5: hold as many connections as allowed (50,000 asked) with heartbeats. */
export async function capacityScenario(ctx: Context): Promise<CapacityRun[]> {
  const plan = ctx.config.capacity;
  const { count, limitedBy } = connectionCap(ctx, plan.requested);
  const runs: CapacityRun[] = [];
  for (const server of plan.servers.filter((name) => ctx.config.servers.includes(name))) {
    const run: CapacityRun = {
      server,
      requested: plan.requested,
      attempted: count,
      limitedBy,
      connected: 0,
      openAtEnd: 0,
      serverReported: null,
      dropped: 0,
      failed: 0,
      holdS: plan.holdMs / 1000,
      heartbeatMs: plan.heartbeatMs,
      heartbeatsPerConnection: 0,
      rssBytes: 0,
      serverCpuPercent: 0,
      connectMs: 0,
    };
    runs.push(
      await guarded(
        ctx,
        `${server} capacity`,
        async () => {
          const rig = await Rig.start({ placement: ctx.placement, pool: ctx.pool, server, heartbeatMs: plan.heartbeatMs });
          try {
            // Half WebSocket, half SSE where the server has both.
            const sse = TARGETS[server].subscribe.sse === undefined ? 0 : Math.floor(count / 2);
            const started = Date.now();
            const opened = await Promise.all([
              rig.subscribe('ws', count - sse, { kind: 'spread', prefix: 'cap/', count: count - sse }, { sampleEvery: 0, name: 'ws', timeoutMs: 120_000 }),
              ...(sse > 0
                ? [rig.subscribe('sse', sse, { kind: 'spread', prefix: 'cap-sse/', count: sse }, { sampleEvery: 0, name: 'sse', timeoutMs: 120_000 })]
                : []),
            ]);
            run.connectMs = Date.now() - started;
            run.connected = opened.reduce((sum, o) => sum + o.ready, 0);
            run.failed = opened.reduce((sum, o) => sum + o.failed, 0);
            ctx.log(`  ${TARGETS[server].label}: ${run.connected} of ${count} connected in ${(run.connectMs / 1000).toFixed(1)} s; holding ${run.holdS} s`);
            const beatsBefore = (await rig.counts()).heartbeats;
            const cpu0 = rig.serverCpu();
            const holdStart = Date.now();
            while (Date.now() - holdStart < plan.holdMs) await sleep(Math.min(1000, plan.holdMs));
            const holdMs = Date.now() - holdStart;
            const counts = await rig.counts();
            run.serverCpuPercent = Math.round((rig.serverCpu() - cpu0) / (holdMs * 10));
            run.rssBytes = rig.serverRss();
            run.openAtEnd = counts.open;
            run.dropped = counts.dropped;
            run.heartbeatsPerConnection = Math.round(((counts.heartbeats - beatsBefore) / Math.max(1, run.connected)) * 10) / 10;
            run.serverReported = server === 'herald' ? await heraldConnections(rig.servers[0]!.port) : null;
            ctx.log(
              `  ${TARGETS[server].label}: after ${run.holdS} s: ${run.openAtEnd} open, ${run.dropped} dropped, ` +
                `${run.heartbeatsPerConnection} heartbeats each, RSS ${(run.rssBytes / 2 ** 20).toFixed(0)} MiB, server CPU ${run.serverCpuPercent}%`,
            );
            return run;
          } finally {
            await rig.close();
          }
        },
        run,
      ),
    );
  }
  return runs;
}
