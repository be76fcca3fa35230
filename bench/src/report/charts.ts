/** The charts of a run, as SVG texts keyed by file name. */
import { TARGETS, type ServerName } from '../harness/targets.js';
import type { BenchResults } from '../results.js';
import type { LadderRun } from '../scenarios/fanout.js';
import { barChart, lineChart } from './svg.js';

const label = (server: ServerName): string => TARGETS[server].label;

function ladderCharts(name: string, title: string, runs: LadderRun[]): Record<string, string> {
  const groups = [...new Set(runs.map((r) => `${r.transport} × ${r.subscribers.toLocaleString('en-US')}`))];
  const servers = [...new Set(runs.map((r) => r.server))];
  const pick = (value: (r: LadderRun) => number | null) =>
    servers.map((server) => ({
      name: label(server),
      values: groups.map((g) => {
        const run = runs.find((r) => r.server === server && `${r.transport} × ${r.subscribers.toLocaleString('en-US')}` === g);
        return run === undefined ? null : value(run);
      }),
    }));
  return {
    [`${name}.svg`]: barChart({
      title,
      subtitle: 'highest sustained deliveries/s (≥ 95% delivered, p99 under the limit); server on one core',
      yLabel: 'deliveries per second',
      groups,
      series: pick((r) => r.best?.deliveriesPerSec ?? 0),
    }),
    [`${name}-cpu.svg`]: barChart({
      title: `${title}: server CPU per delivery`,
      subtitle: 'µs of server CPU (user + system) per delivered event, saturated; lower is better',
      yLabel: 'µs per delivery',
      groups,
      series: pick((r) => r.probe?.cpuUsPerDelivery ?? null),
    }),
  };
}

/** Every chart the results allow. */
export function charts(results: BenchResults): Record<string, string> {
  const s = results.scenarios;
  let out: Record<string, string> = {};
  if (s.fanout.length > 0) out = { ...out, ...ladderCharts('fanout', 'Scenario 1: fan-out, one topic', s.fanout) };
  if (s.manyTopics.length > 0) out = { ...out, ...ladderCharts('many-topics', 'Scenario 3: many topics, one subscriber each', s.manyTopics) };
  if (s.highRate.length > 0) {
    const series = s.highRate.map((r) => ({ name: `${label(r.server)} ${r.transport}`, run: r }));
    out['high-rate.svg'] = lineChart({
      title: `Scenario 2: fan-out at high event rates, ${s.highRate[0]!.subscribers.toLocaleString('en-US')} subscribers`,
      subtitle: 'deliveries per second achieved at each offered event rate',
      xLabel: 'events published per second',
      yLabel: 'deliveries per second',
      series: series.map(({ name, run }) => ({ name, points: run.steps.map((st) => [st.rate ?? 0, st.deliveriesPerSec] as [number, number]) })),
    });
    out['high-rate-latency.svg'] = lineChart({
      title: 'Scenario 2: publish-to-receive p99',
      subtitle: 'log scale; the dashed line is the 5 ms target at 100 events/s',
      xLabel: 'events published per second',
      yLabel: 'p99 latency, ms',
      logY: true,
      line: { value: 5, label: '5 ms' },
      series: series.map(({ name, run }) => ({ name, points: run.steps.map((st) => [st.rate ?? 0, Math.max(0.01, st.latency.p99)] as [number, number]) })),
    });
  }
  if (s.idle.length > 0) {
    const transports = [...new Set(s.idle.map((r) => r.transport))];
    const servers = [...new Set(s.idle.map((r) => r.server))];
    out['idle-memory.svg'] = barChart({
      title: 'Scenario 4: RSS per idle connection',
      subtitle: `${s.idle[0]!.connections.toLocaleString('en-US')} connections; lower is better; dashed: Herald's WebSocket target (8 KiB)`,
      yLabel: 'KiB per connection',
      groups: transports.map((t) => (t === 'ws' ? 'WebSocket' : 'SSE')),
      series: servers.map((server) => ({
        name: label(server),
        values: transports.map((t) => {
          const run = s.idle.find((r) => r.server === server && r.transport === t);
          return run === undefined || run.connections === 0 ? null : Math.round(run.bytesPerConnection / 102.4) / 10;
        }),
      })),
      line: { value: 8, label: '8 KiB' },
    });
  }
  if (s.ingest.length > 0) {
    const modes = ['http-single', 'http-batch', 'ws'] as const;
    const names = { 'http-single': 'POST, 1 event', 'http-batch': 'POST, batch', ws: 'WebSocket publish' };
    const servers = [...new Set(s.ingest.map((r) => r.server))];
    out['ingest.svg'] = barChart({
      title: 'Scenario 6: ingest, events accepted per second',
      subtitle: 'no subscribers; closed loop; server on one core',
      yLabel: 'events per second',
      groups: modes.map((m) => names[m]),
      series: servers.map((server) => ({
        name: label(server),
        values: modes.map((m) => s.ingest.find((r) => r.server === server && r.mode === m)?.eventsPerSec ?? null),
      })),
    });
  }
  if (s.redis !== null && s.redis.steps.length > 0) {
    const r = s.redis;
    out['redis.svg'] = lineChart({
      title: `Scenario 7: ${r.nodes} Herald nodes on Redis, p99 by node`,
      subtitle: `${r.subscribers.toLocaleString('en-US')} subscribers spread over the nodes, published on node 0; dashed: 10 ms target`,
      xLabel: 'events published per second',
      yLabel: 'p99 latency, ms',
      logY: true,
      line: { value: 10, label: '10 ms' },
      series: Array.from({ length: r.nodes }, (_, node) => ({
        name: `node ${node}`,
        points: r.steps.map((st) => [st.overall.rate ?? 0, Math.max(0.01, st.byNode[node]?.p99 ?? 0)] as [number, number]),
      })),
    });
  }
  return out;
}
