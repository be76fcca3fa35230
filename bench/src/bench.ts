/**
 * Runs a benchmark: the chosen scenarios, then the target checks, the tables, the
 * JSON results and the charts. `run.ts` is the command line; the smoke test calls
 * {@link runBench} directly with the `smoke` configuration.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { BenchConfig } from './config.js';
import { AgentPool } from './harness/agents.js';
import { HAVE_TASKSET, hardFileLimit, loadAverage } from './harness/processes.js';
import type { Placement } from './harness/rig.js';
import { EVENT_DATA_BYTES } from './lib/payload.js';
import { charts } from './report/charts.js';
import { renderMarkdown, renderText, tables } from './report/tables.js';
import { checkTargets } from './report/targets.js';
import { machineInfo, type BenchResults } from './results.js';
import type { Context } from './scenarios/context.js';
import { fanoutScenario, highRateScenario, manyTopicsScenario } from './scenarios/fanout.js';
import { ingestScenario } from './scenarios/ingest.js';
import { capacityScenario, idleScenario } from './scenarios/memory.js';
import { redisScenario } from './scenarios/redis.js';

/** Scenario numbers as the issue numbers them. */
const SCENARIOS = [1, 2, 3, 4, 5, 6, 7] as const;

/** Options of {@link runBench}. */
export interface RunOptions {
  /** Scenarios to run (default all). */
  only?: readonly number[];
  /** Where results go; nothing is written when undefined. */
  outDir?: string;
  /** Pin server and generator to cores 0 and 1 (default: when there are two cores and taskset). */
  pin?: boolean;
  log?: (line: string) => void;
  command?: string;
}

/** The output files of a run. */
export interface Written {
  json: string;
  latest: string;
  markdown: string;
  charts: string[];
}

function placement(pin: boolean | undefined): Placement {
  // All cores, not the ones this process may use: run.ts pins itself to the generator core first.
  const cores = cpus().length;
  const usable = (pin ?? true) && HAVE_TASKSET && cores >= 2;
  return usable ? { serverCore: 0, generatorCore: 1 } : { serverCore: undefined, generatorCore: undefined };
}

/** Runs the scenarios of `config` and returns (and optionally writes) the results. */
export async function runBench(config: BenchConfig, options: RunOptions = {}): Promise<{ results: BenchResults; written: Written | undefined }> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const only = new Set(options.only ?? SCENARIOS);
  const fdLimit = hardFileLimit();
  const where = placement(options.pin);
  const ctx: Context = { config, placement: where, pool: new AgentPool(where.generatorCore), log, fdLimit };
  const started = new Date();
  const loadBefore = loadAverage();
  const results: BenchResults = {
    schema: 1,
    mode: config.mode,
    command: options.command ?? '',
    startedAt: started.toISOString(),
    finishedAt: '',
    durationS: 0,
    machine: machineInfo(fdLimit),
    load: { before: loadBefore, after: loadBefore },
    method: {
      serverCore: ctx.placement.serverCore ?? 'not pinned',
      generatorCore: ctx.placement.generatorCore ?? 'not pinned',
      eventDataBytes: EVENT_DATA_BYTES,
      compression: 'off on every server (ws perMessageDeflate false; Socket.IO perMessageDeflate and httpCompression false)',
      socketio: 'WebSocket transport only; one room per topic; io.to(topic).emit',
      fanoutPublish: "each server's WebSocket publish (Herald's publish message; Socket.IO emit with ack), one event per message",
      latency: 'publish-to-receive from a CLOCK_MONOTONIC timestamp in the payload, on every n-th connection',
      cpu: 'utime + stime of the server process(es) from /proc/<pid>/stat',
      memory: 'VmRSS from /proc/<pid>/status',
    },
    scenarios: { fanout: [], highRate: [], manyTopics: [], idle: [], capacity: [], ingest: [], redis: null },
    targets: [],
  };
  const section = (n: number, title: string): boolean => {
    if (!only.has(n)) return false;
    log(`\n[${n}] ${title}`);
    return true;
  };
  try {
    if (section(1, 'fan-out, one event at a time')) results.scenarios.fanout = await fanoutScenario(ctx);
    if (section(2, 'fan-out at high event rates')) results.scenarios.highRate = await highRateScenario(ctx);
    if (section(3, 'many topics')) results.scenarios.manyTopics = await manyTopicsScenario(ctx);
    if (section(4, 'idle memory')) results.scenarios.idle = await idleScenario(ctx);
    if (section(5, 'capacity')) results.scenarios.capacity = await capacityScenario(ctx);
    if (section(6, 'ingest')) results.scenarios.ingest = await ingestScenario(ctx);
    if (section(7, 'Redis mode')) results.scenarios.redis = await redisScenario(ctx);
  } finally {
    await ctx.pool.stop();
  }
  const finished = new Date();
  results.finishedAt = finished.toISOString();
  results.durationS = Math.round((finished.getTime() - started.getTime()) / 1000);
  results.load.after = loadAverage();
  results.targets = checkTargets(results);
  log('');
  for (const table of tables(results)) log(`${renderText(table)}\n`);
  log(`${config.mode} run took ${results.durationS} s; load average ${results.load.before.load1} before, ${results.load.after.load1} after.`);
  const written = options.outDir === undefined ? undefined : writeResults(results, options.outDir);
  if (written !== undefined) log(`results: ${written.json}, ${written.latest}; charts: ${written.charts.join(', ')}`);
  return { results, written };
}

/** Writes `<timestamp>.json`, `latest.json`, `latest.md` and the SVG charts. */
export function writeResults(results: BenchResults, outDir: string): Written {
  mkdirSync(outDir, { recursive: true });
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  const json = `${JSON.stringify(results, null, 1)}\n`;
  const files: Written = { json: join(outDir, `${stamp}.json`), latest: join(outDir, 'latest.json'), markdown: join(outDir, 'latest.md'), charts: [] };
  writeFileSync(files.json, json);
  writeFileSync(files.latest, json);
  const markdown = [
    `<!-- generated by npm run bench (${results.mode}) at ${results.startedAt}; copy into docs/benchmarks.md -->`,
    '',
    ...tables(results).map((t) => `${renderMarkdown(t)}\n`),
  ].join('\n');
  writeFileSync(files.markdown, markdown);
  for (const [name, svg] of Object.entries(charts(results))) {
    const path = join(outDir, name);
    writeFileSync(path, svg);
    files.charts.push(path);
  }
  return files;
}
