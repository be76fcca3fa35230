import { clusterExperiment } from './experiments/cluster.js';
import { cutsExperiment } from './experiments/cuts.js';
import { outboxExperiment } from './experiments/outbox.js';
import { REDIS_FAULTS, redisFaultExperiment } from './experiments/redis-faults.js';
import type { ExperimentOptions } from './experiments/session.js';
import { seededRandom, runSeed } from './random.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { markdown, RESULTS_DIR, writeResults, type ExperimentResult } from './report.js';

/** One runnable experiment: a name, and a function of the shared knobs. */
interface Entry {
  name: string;
  /** The experiment family (1-4 in docs/reliability.md); a family name selects all of its experiments. */
  family: string;
  run: (options: ExperimentOptions) => Promise<ExperimentResult[] | ExperimentResult>;
  /** Default duration in the full run, ms (CHAOS_SCALE multiplies it). */
  durationMs: number;
}

const EXPERIMENTS: Entry[] = [
  { name: 'cuts', family: 'cuts', run: cutsExperiment, durationMs: 60_000 },
  { name: 'cluster', family: 'cluster', run: clusterExperiment, durationMs: 90_000 },
  ...REDIS_FAULTS.map((name) => ({ name, family: 'redis', run: redisFaultExperiment(name), durationMs: 15_000 })),
  { name: 'outbox-memory', family: 'outbox', run: (o) => outboxExperiment('memory', o), durationMs: 40_000 },
  { name: 'outbox-redis', family: 'outbox', run: (o) => outboxExperiment('redis', o), durationMs: 40_000 },
];

const EXPERIMENT_DIR = join(RESULTS_DIR, 'experiments');

/**
 * Rewrites chaos/results/chaos.md and chaos.json from the latest result of every
 * experiment (chaos/results/experiments/<name>.*), so running a few experiments
 * updates theirs without losing the others'.
 */
function writeSummary(): void {
  const latest = EXPERIMENTS.map((e) => join(EXPERIMENT_DIR, `${e.name}.json`))
    .filter((file) => existsSync(file))
    .map((file) => JSON.parse(readFileSync(file, 'utf8')) as { seed: number; scale: number; at: string; result: ExperimentResult });
  const table = [
    '| experiment | run at | seed | scale | faults | acknowledged | verdict |',
    '|---|---|---|---|---|---|---|',
    ...latest.map(
      ({ result, at, seed, scale }) =>
        `| ${result.name} | ${at} | ${seed} | ${scale} | ${result.faults} | ${result.published.acknowledged} | ${result.passed ? 'pass' : '**FAIL**'} |`,
    ),
  ].join('\n');
  const sections = [
    '# Chaos results',
    'The latest run of each experiment (`npm run chaos`; see docs/reliability.md).',
    table,
    ...latest.map(({ result }) => markdown(result)),
  ];
  writeResults('chaos', { experiments: latest }, sections.join('\n\n'));
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const scale = Number(process.env['CHAOS_SCALE'] ?? '1');
  const perKind = Number(process.env['CHAOS_SUBSCRIBERS'] ?? '3');
  const seed = runSeed();
  process.stderr.write(`chaos: seed ${seed} (rerun with CHAOS_SEED=${seed}), scale ${scale}\n`);
  const selected = EXPERIMENTS.filter((e) => wanted.length === 0 || wanted.includes(e.name) || wanted.includes(e.family));
  if (selected.length === 0) throw new Error(`no experiment named ${wanted.join(', ')}; known: ${EXPERIMENTS.map((e) => e.name).join(', ')}`);
  const results: ExperimentResult[] = [];
  for (const entry of selected) {
    process.stderr.write(`chaos: running ${entry.name}\n`);
    const outcome = await entry.run({
      durationMs: entry.durationMs * scale,
      subscribersPerKind: perKind,
      random: seededRandom(seed),
      log: (line) => process.stderr.write(`  ${line}\n`),
    });
    for (const result of Array.isArray(outcome) ? outcome : [outcome]) {
      results.push(result);
      const md = markdown(result);
      process.stdout.write(`\n${md}\n`);
      const header = `Run ${new Date().toISOString()}, seed ${seed}, scale ${scale}, ${perKind} subscribers per client kind.`;
      writeResults(result.name, { seed, scale, at: new Date().toISOString(), result }, `${header}\n\n${md}`, EXPERIMENT_DIR);
    }
  }
  writeSummary();
  const failed = results.filter((r) => !r.passed).map((r) => r.name);
  process.stdout.write(`\nchaos: ${results.length - failed.length}/${results.length} passed${failed.length > 0 ? `; failed: ${failed.join(', ')}` : ''}\n`);
  process.exitCode = failed.length > 0 ? 1 : 0;
}

main().catch((error: unknown) => {
  process.stderr.write(`chaos: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 2;
});
