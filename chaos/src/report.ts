import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SubscriberTally } from './accounting.js';

/** Where results are written: `chaos/results/`. */
export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** The sums over a group of subscribers (one table row). */
export interface GroupTotals {
  label: string;
  subscribers: number;
  expected: number;
  received: number;
  missingUnexplained: number;
  missingExplained: number;
  duplicated: number;
  duplicatedAfterReset: number;
  reordered: number;
  resets: number;
  phantoms: number;
  unacked: number;
}

/** One experiment's outcome. */
export interface ExperimentResult {
  name: string;
  title: string;
  knobs: Record<string, string | number>;
  durationMs: number;
  published: { attempted: number; acknowledged: number; refused: number };
  rows: GroupTotals[];
  /** Faults injected (connections cut, nodes killed, outages); a run with none proved nothing. */
  faults: number;
  /** Hub (or relay) processes that exited without the harness asking. */
  crashes: number;
  passed: boolean;
  /** Why it failed, one line each; empty when it passed. */
  failures: string[];
  notes: string[];
  /** Per-subscriber detail, with samples of failing keys. */
  subscribers: SubscriberTally[];
}

/** Adds up a group's tallies. */
export function totals(label: string, tallies: SubscriberTally[]): GroupTotals {
  const row: GroupTotals = {
    label,
    subscribers: tallies.length,
    expected: 0,
    received: 0,
    missingUnexplained: 0,
    missingExplained: 0,
    duplicated: 0,
    duplicatedAfterReset: 0,
    reordered: 0,
    resets: 0,
    phantoms: 0,
    unacked: 0,
  };
  for (const t of tallies) {
    row.expected += t.expected;
    row.received += t.received;
    row.missingUnexplained += t.missingUnexplained;
    row.missingExplained += t.missingExplained;
    row.duplicated += t.duplicated;
    row.duplicatedAfterReset += t.duplicatedAfterReset;
    row.reordered += t.reordered;
    row.resets += t.resets;
    row.phantoms += t.phantoms;
    row.unacked += t.unacked;
  }
  return row;
}

/**
 * The pass rule: no unexplained miss, no duplicate, no reorder, no phantom (an event
 * delivered after a refusal that promised nothing was published), no crash, and
 * something was actually acknowledged and expected (an empty run proves nothing).
 */
export function verdict(rows: GroupTotals[], crashes: number, acknowledged: number): string[] {
  const failures: string[] = [];
  for (const row of rows) {
    if (row.missingUnexplained > 0) failures.push(`${row.label}: ${row.missingUnexplained} events missed without a reset`);
    if (row.duplicated > 0) failures.push(`${row.label}: ${row.duplicated} duplicate deliveries`);
    if (row.reordered > 0) failures.push(`${row.label}: ${row.reordered} events out of log order`);
    if (row.phantoms > 0) failures.push(`${row.label}: ${row.phantoms} events delivered although their publish was refused as not published`);
    if (row.expected === 0) failures.push(`${row.label}: nothing was expected (no acknowledged event on its topics): the run proves nothing`);
  }
  if (crashes > 0) failures.push(`${crashes} hub process(es) exited unexpectedly`);
  if (acknowledged === 0) failures.push('no event was acknowledged');
  return failures;
}

const COLUMNS: Array<[string, (r: GroupTotals) => string | number]> = [
  ['clients', (r) => r.label],
  ['subs', (r) => r.subscribers],
  ['expected', (r) => r.expected],
  ['received', (r) => r.received],
  ['missing unexplained', (r) => r.missingUnexplained],
  ['missing explained', (r) => r.missingExplained],
  ['duplicated', (r) => `${r.duplicated}${r.duplicatedAfterReset > 0 ? ` (+${r.duplicatedAfterReset} after reset)` : ''}`],
  ['reordered', (r) => r.reordered],
  ['resets', (r) => r.resets],
  ['phantoms', (r) => r.phantoms],
];

/** A Markdown table of one experiment, with its crash count and verdict. */
export function markdown(result: ExperimentResult): string {
  const lines = [`### ${result.name}: ${result.title}`, ''];
  const knobs = Object.entries(result.knobs)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  lines.push(
    `Knobs: ${knobs}. Took ${(result.durationMs / 1000).toFixed(1)} s. Faults injected: ${result.faults}. Publishes: ${result.published.attempted} attempted, ${result.published.acknowledged} acknowledged, ${result.published.refused} refused.`,
    '',
  );
  lines.push(`| ${[...COLUMNS.map(([h]) => h), 'crashes', 'verdict'].join(' | ')} |`);
  lines.push(`|${[...COLUMNS, 0, 0].map(() => '---').join('|')}|`);
  for (const row of result.rows) {
    const ok = !result.failures.some((f) => f.startsWith(`${row.label}:`));
    lines.push(`| ${[...COLUMNS.map(([, get]) => get(row)), result.crashes, ok ? 'pass' : '**FAIL**'].join(' | ')} |`);
  }
  lines.push('', `Verdict: ${result.passed ? 'pass' : '**FAIL**'}`);
  for (const failure of result.failures) lines.push(`- ${failure}`);
  for (const note of result.notes) lines.push(`- note: ${note}`);
  return lines.join('\n');
}

/** Writes `<name>.json` and `<name>.md` under chaos/results (or `dir`) and returns the Markdown. */
export function writeResults(name: string, body: unknown, md: string, dir = RESULTS_DIR): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(body, null, 2)}\n`);
  writeFileSync(join(dir, `${name}.md`), `${md}\n`);
}
