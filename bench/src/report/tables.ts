/**
 * The side-by-side tables, rendered as aligned text for the terminal and as
 * Markdown for docs/benchmarks.md (bench/results/latest.md).
 */
import { TARGETS } from '../harness/targets.js';
import type { StepResult } from '../harness/rig.js';
import type { BenchResults } from '../results.js';
import { searchCapped } from '../scenarios/fanout.js';

/** A titled table. */
export interface Table {
  title: string;
  headers: string[];
  rows: string[][];
  notes?: string[];
}

const label = (server: string): string => TARGETS[server as keyof typeof TARGETS]?.label ?? server;
const n = (value: number): string => value.toLocaleString('en-US');
const ms = (value: number): string => (value >= 100 ? String(Math.round(value)) : value.toFixed(value >= 10 ? 1 : 2));

function stepCells(step: StepResult | null | undefined, capped: boolean): string[] {
  if (step === null || step === undefined) return ['–', '–', '–', '–', '–'];
  return [
    `${capped ? '≥ ' : ''}${n(step.deliveriesPerSec)}`,
    String(step.rate ?? '–'),
    ms(step.latency.p50),
    ms(step.latency.p99),
    String(step.cpuUsPerDelivery),
  ];
}

function ladderTable(title: string, runs: BenchResults['scenarios']['fanout']): Table {
  return {
    title,
    headers: [
      'subscribers',
      'transport',
      'server',
      'sustained deliveries/s',
      'at events/s',
      'p50 ms',
      'p99 ms',
      'CPU µs/delivery',
      'saturation deliveries/s',
      'CPU µs/delivery (saturated)',
      'generator CPU %',
    ],
    rows: runs.map((r) => [
      n(r.subscribers),
      r.transport,
      label(r.server),
      ...(r.error !== undefined && r.best === null ? ['error', '', '', '', ''] : stepCells(r.best, searchCapped(r))),
      r.probe === null ? '–' : n(r.probe.deliveriesPerSec),
      r.probe === null ? '–' : String(r.probe.cpuUsPerDelivery),
      String(Math.max(0, ...[r.probe, ...r.steps].filter((s): s is StepResult => s !== null).map((s) => s.generatorCpuPercent))),
    ]),
  };
}

/** Every table of a run. */
export function tables(results: BenchResults): Table[] {
  const s = results.scenarios;
  const out: Table[] = [];
  if (s.fanout.length > 0) {
    const t = ladderTable('Scenario 1: fan-out, one event at a time (one topic, 200-byte events)', s.fanout);
    t.notes = [
      'sustained = the highest publish rate that kept up (≥ 95% delivered, publisher on schedule, p99 < 100 ms at 2,000 and < 500 ms at 10,000 subscribers); its p50, p99 and CPU.',
      'saturated = closed loop, the next event published when the server acknowledges the previous one.',
      '≥: the search reached its step limit while still keeping up, so the sustained rate is a lower bound.',
    ];
    out.push(t);
  }
  if (s.highRate.length > 0) {
    out.push({
      title: `Scenario 2: fan-out at high event rates (${n(s.highRate[0]!.subscribers)} subscribers, one topic)`,
      headers: ['events/s', 'transport', 'server', 'delivered', 'deliveries/s', 'CPU µs/delivery', 'p50 ms', 'p99 ms', 'server CPU %'],
      rows: [...new Set(s.highRate.flatMap((r) => r.steps.map((st) => st.rate ?? 0)))]
        .sort((a, b) => a - b)
        .flatMap((rate) =>
          s.highRate.map((r) => {
            const st = r.steps.find((x) => x.rate === rate);
            if (st === undefined)
              return [n(rate), r.transport, label(r.server), r.error === undefined ? 'not run (fell behind earlier)' : 'error', '', '', '', '', ''];
            return [
              n(rate),
              r.transport,
              label(r.server),
              `${(st.fraction * 100).toFixed(1)}%`,
              n(st.deliveriesPerSec),
              String(st.cpuUsPerDelivery),
              ms(st.latency.p50),
              ms(st.latency.p99),
              String(st.serverCpuPercent),
            ];
          }),
        ),
      notes: ['A step stops the series when under 50% was delivered: the server then has a backlog that would spill into later steps.'],
    });
  }
  if (s.manyTopics.length > 0) {
    const t = ladderTable(`Scenario 3: many topics (${n(s.manyTopics[0]!.topics)} topics, one subscriber each)`, s.manyTopics);
    t.notes = ['sustained: ≥ 95% delivered with p99 < 100 ms; saturated: closed loop with 32 publishes in flight.'];
    out.push(t);
  }
  if (s.idle.length > 0) {
    out.push({
      title: 'Scenario 4: idle memory (each connection on its own topic)',
      headers: ['transport', 'server', 'connections', 'RSS before MiB', 'RSS after MiB', 'KiB per connection'],
      rows: s.idle.map((r) => [
        r.transport,
        label(r.server),
        n(r.connections),
        (r.rssBeforeBytes / 2 ** 20).toFixed(1),
        (r.rssAfterBytes / 2 ** 20).toFixed(1),
        r.error === undefined ? (r.bytesPerConnection / 1024).toFixed(1) : 'error',
      ]),
      notes: s.idle[0]!.limitedBy === null ? [] : [`${n(s.idle[0]!.requested)} connections asked; ${s.idle[0]!.limitedBy}.`],
    });
  }
  if (s.capacity.length > 0) {
    out.push({
      title: 'Scenario 5: capacity (connections held with heartbeats, half WebSocket and half SSE where supported)',
      headers: ['server', 'asked', 'attempted', 'connected', 'open at end', 'server says', 'dropped', 'held s', 'heartbeats each', 'RSS MiB', 'server CPU %'],
      rows: s.capacity.map((r) => [
        label(r.server),
        n(r.requested),
        n(r.attempted),
        n(r.connected),
        n(r.openAtEnd),
        r.serverReported === null ? '–' : n(r.serverReported),
        String(r.dropped),
        String(r.holdS),
        String(r.heartbeatsPerConnection),
        (r.rssBytes / 2 ** 20).toFixed(0),
        String(r.serverCpuPercent),
      ]),
      notes: s.capacity
        .filter((r) => r.limitedBy !== null)
        .slice(0, 1)
        .map((r) => `attempted < asked: ${r.limitedBy}.`),
    });
  }
  if (s.ingest.length > 0) {
    out.push({
      title: 'Scenario 6: ingest (no subscribers)',
      headers: ['server', 'publish API', 'in flight', 'events/s', 'CPU µs/event', 'ack p50 ms', 'ack p99 ms', 'errors'],
      rows: s.ingest.map((r) => [
        label(r.server),
        r.mode === 'ws'
          ? r.server === 'socketio'
            ? 'emit with ack'
            : 'WebSocket publish'
          : r.mode === 'http-single'
            ? 'POST /publish, 1 event'
            : `POST /publish, ${r.batch} events`,
        `${r.connections} × ${r.inFlight}`,
        r.error === undefined ? n(r.eventsPerSec) : 'error',
        String(r.cpuUsPerEvent),
        ms(r.ackP50),
        ms(r.ackP99),
        String(r.errors),
      ]),
    });
  }
  if (s.redis !== null) {
    const r = s.redis;
    out.push({
      title: `Scenario 7: Redis mode (${r.nodes} Herald nodes on one Redis, ${n(r.subscribers)} WebSocket subscribers spread over them, published on node 0)`,
      headers: [
        'events/s',
        'delivered',
        'deliveries/s',
        'p50 ms',
        'p99 ms',
        ...Array.from({ length: r.nodes }, (_, i) => `node ${i} p99 ms`),
        'CPU µs/delivery (all nodes)',
      ],
      rows:
        r.skipped !== null
          ? [[`skipped: ${r.skipped}`]]
          : r.steps.map((st) => [
              n(st.overall.rate ?? 0),
              `${(st.overall.fraction * 100).toFixed(1)}%`,
              n(st.overall.deliveriesPerSec),
              ms(st.overall.latency.p50),
              ms(st.overall.latency.p99),
              ...st.byNode.map((x) => ms(x.p99)),
              String(st.overall.cpuUsPerDelivery),
            ]),
    });
  }
  if (results.targets.length > 0) {
    out.push({
      title: 'Targets',
      headers: ['target', 'measured', 'met'],
      rows: results.targets.map((t) => [
        t.target,
        t.measured + (t.note === undefined ? '' : ` (${t.note})`),
        t.met === null ? 'not decided' : t.met ? 'yes' : 'NO',
      ]),
    });
  }
  return out;
}

/** Aligned plain text. */
export function renderText(table: Table): string {
  const widths = table.headers.map((h, i) => Math.max(h.length, ...table.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    table.title,
    line(table.headers),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...table.rows.map((row) => (row.length === 1 ? row[0]! : line(row))),
    ...(table.notes ?? []).map((note) => `  ${note}`),
  ].join('\n');
}

/** GitHub Markdown. */
export function renderMarkdown(table: Table): string {
  const escape = (cell: string): string => cell.replace(/\|/g, '\\|');
  return [
    `#### ${table.title}`,
    '',
    `| ${table.headers.map(escape).join(' | ')} |`,
    `|${table.headers.map((_, i) => (i < 3 ? '---' : '---:')).join('|')}|`,
    ...table.rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
    ...((table.notes ?? []).length > 0 ? ['', ...(table.notes ?? []).map((note) => `${note}`)] : []),
  ].join('\n');
}
