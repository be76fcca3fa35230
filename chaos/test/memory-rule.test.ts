import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeMemory, slope } from '../src/soak/memory-rule.js';
import type { MemorySample } from '../src/infra/probed-hub.js';

const MIB = 1024 * 1024;
const bounds = { warmupMs: 120_000, heapSlopePerMinute: MIB, rssGrowth: 0.25, minSamples: 3 };

function samples(minutes: number, heapAt: (minute: number) => number, rssAt: (minute: number) => number): MemorySample[] {
  const out: MemorySample[] = [];
  for (let t = 0; t <= minutes * 60_000; t += 10_000) {
    const m = t / 60_000;
    out.push({ at: t, rss: rssAt(m), heapUsed: heapAt(m), heapTotal: 0, external: 0, arrayBuffers: 0 });
  }
  return out;
}

test('slope is the least-squares slope', () => {
  assert.equal(
    slope([
      [0, 1],
      [1, 3],
      [2, 5],
    ]),
    2,
  );
  assert.equal(slope([[0, 1]]), 0);
});

test('growth during warm-up only passes; a sawtooth without a trend passes', () => {
  const verdict = judgeMemory(
    samples(
      10,
      (m) => (m < 2 ? 10 * MIB * m : 20 * MIB + ((m * 6) % 1) * 2 * MIB),
      () => 100 * MIB,
    ),
    bounds,
  );
  assert.ok(verdict.passed, verdict.failures.join('; '));
});

test('a heap that keeps growing after warm-up fails; so does RSS growth past the bound', () => {
  const leaking = judgeMemory(
    samples(
      10,
      (m) => 20 * MIB + 2 * MIB * m,
      () => 100 * MIB,
    ),
    bounds,
  );
  assert.equal(leaking.passed, false);
  assert.match(leaking.failures.join(), /heapUsed grows/);
  const rss = judgeMemory(
    samples(
      10,
      () => 20 * MIB,
      (m) => 100 * MIB + 5 * MIB * m,
    ),
    bounds,
  );
  assert.match(rss.failures.join(), /RSS grew/);
});

test('too few samples after warm-up is no verdict', () => {
  assert.equal(
    judgeMemory(
      samples(
        2.2,
        () => 0,
        () => 1,
      ),
      bounds,
    ).passed,
    false,
  );
});
