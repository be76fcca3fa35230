/**
 * Re-renders a results file: recomputes the target checks and rewrites the tables
 * (latest.md) and charts beside it, without rerunning anything.
 *
 *   node --import tsx bench/src/report.ts bench/results/latest.json
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeResults } from './bench.js';
import { renderText, tables } from './report/tables.js';
import { checkTargets } from './report/targets.js';
import type { BenchResults } from './results.js';

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: node --import tsx bench/src/report.ts <results.json>\n');
  process.exit(2);
}
const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
results.targets = checkTargets(results);
for (const table of tables(results)) process.stdout.write(`${renderText(table)}\n\n`);
const written = writeResults(results, dirname(file));
process.stdout.write(`rewrote ${written.latest}, ${written.json}, ${written.markdown} and ${written.charts.length} charts\n`);
