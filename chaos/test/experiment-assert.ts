import assert from 'node:assert/strict';
import type { ExperimentResult } from '../src/report.js';
import { markdown } from '../src/report.js';
import { seededRandom } from '../src/random.js';
import type { ExperimentOptions } from '../src/experiments/session.js';

/** Short-run knobs for the npm test versions of the experiments; the seed is printed on failure. */
export function shortRun(durationMs: number, subscribersPerKind = 1): ExperimentOptions & { seed: number } {
  const seed = process.env['HERALD_TEST_SEED'] !== undefined ? Number(process.env['HERALD_TEST_SEED']) : Math.floor(Math.random() * 2 ** 31);
  return { seed, durationMs, subscribersPerKind, random: seededRandom(seed), log: () => undefined };
}

/**
 * Asserts the pass criteria on an experiment's result: every row expected
 * something, and nothing was missed without a reset, duplicated, reordered,
 * delivered after a refusal or crashed. The failure message holds the table.
 */
export function assertPassed(result: ExperimentResult, seed: number): void {
  const table = `${markdown(result)}\n(seed ${seed}: rerun with HERALD_TEST_SEED=${seed})`;
  for (const row of result.rows) {
    assert.ok(row.expected > 0, `${row.label} expected nothing: the run proves nothing\n${table}`);
    assert.equal(row.missingUnexplained, 0, `${row.label}: events missed without a reset\n${table}`);
    assert.equal(row.duplicated, 0, `${row.label}: duplicates\n${table}`);
    assert.equal(row.reordered, 0, `${row.label}: out of order\n${table}`);
    assert.equal(row.phantoms, 0, `${row.label}: refused publishes delivered\n${table}`);
  }
  assert.equal(result.crashes, 0, `hub crashes\n${table}`);
  assert.ok(result.passed, table);
}
