/**
 * The benchmark harness in miniature: every scenario, every server, a few hundred
 * connections, a few seconds. It checks behaviour, never timing: every frame
 * published is counted once per subscriber, every connection is held, and the
 * results file and charts have their shape. The benchmarks themselves never run
 * under `npm test` (see docs/benchmarks.md for `npm run bench`).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runBench, type Written } from '../src/bench.js';
import { CONFIGS } from '../src/config.js';
import { stopAllSync } from '../src/harness/processes.js';
import type { StepResult } from '../src/harness/rig.js';
import type { BenchResults } from '../src/results.js';

const config = CONFIGS.smoke;
let out: string;
let results: BenchResults;
let written: Written;

/** Every frame published reached every subscriber of its topic, exactly once. */
function assertAllDelivered(step: StepResult | null, what: string): void {
  assert.ok(step !== null, `${what}: no step measured`);
  assert.ok(step.sent > 0, `${what}: nothing published`);
  assert.equal(step.delivered, step.expected, `${what}: ${step.delivered} frames counted, ${step.expected} expected (${step.sent} events)`);
}

describe('bench harness (smoke)', { timeout: 300_000 }, () => {
  before(async () => {
    out = mkdtempSync(join(tmpdir(), 'herald-bench-smoke-'));
    const run = await runBench(config, { outDir: out, log: () => undefined, command: 'smoke test' });
    results = run.results;
    written = run.written!;
  });

  after(() => {
    stopAllSync();
    rmSync(out, { recursive: true, force: true });
  });

  it('fans out to every server over WebSocket and SSE, counting events × subscribers frames', () => {
    const expected = config.servers.length + ['raw-limit', 'hand-rolled', 'herald'].filter((s) => config.servers.includes(s as never)).length;
    assert.equal(results.scenarios.fanout.length, expected);
    for (const run of results.scenarios.fanout) {
      const what = `${run.server} ${run.transport}`;
      assert.equal(run.error, undefined, `${what}: ${run.error}`);
      assert.equal(run.connected, run.subscribers, what);
      assertAllDelivered(run.probe, `${what} probe`);
      assert.equal(run.probe!.expected, run.probe!.sent * run.subscribers);
      assert.ok(run.steps.length >= 1, `${what}: no open-loop step`);
      for (const step of run.steps) assertAllDelivered(step, `${what} at ${step.rate} ev/s`);
    }
  });

  it('runs the high-rate and many-topics scenarios', () => {
    for (const run of results.scenarios.highRate) {
      assert.equal(run.error, undefined, run.error);
      for (const step of run.steps) assertAllDelivered(step, `${run.server} high rate ${step.rate}`);
    }
    for (const run of results.scenarios.manyTopics) {
      assert.equal(run.error, undefined, run.error);
      // One subscriber per topic: each event is one frame.
      assert.equal(run.probe!.expected, run.probe!.sent);
      assertAllDelivered(run.probe, `${run.server} many topics`);
    }
  });

  it('holds idle and capacity connections without dropping any', () => {
    assert.ok(results.scenarios.idle.length > 0);
    for (const run of results.scenarios.idle) {
      assert.equal(run.error, undefined, run.error);
      assert.equal(run.connections, config.idle.connections, `${run.server} ${run.transport}`);
      assert.ok(run.rssAfterBytes > 0 && run.rssBeforeBytes > 0);
    }
    for (const run of results.scenarios.capacity) {
      assert.equal(run.error, undefined, run.error);
      assert.equal(run.connected, config.capacity.requested);
      assert.equal(run.openAtEnd, config.capacity.requested);
      assert.equal(run.dropped, 0);
      assert.ok(run.heartbeatsPerConnection >= 1, 'heartbeats reached the clients');
      if (run.server === 'herald') assert.equal(run.serverReported, config.capacity.requested);
    }
  });

  it('publishes through every publish API of every server', () => {
    assert.equal(results.scenarios.ingest.length, config.servers.length * 3);
    for (const run of results.scenarios.ingest) {
      assert.equal(run.error, undefined, `${run.server} ${run.mode}: ${run.error}`);
      assert.ok(run.eventsPerSec > 0, `${run.server} ${run.mode}: nothing accepted`);
      assert.equal(run.errors, 0, `${run.server} ${run.mode}: refused publishes`);
    }
  });

  it('runs Herald on Redis across nodes, or says why not', () => {
    const run = results.scenarios.redis;
    assert.ok(run !== null);
    if (run.skipped !== null) {
      assert.notEqual(process.env['HERALD_REQUIRE_REDIS'], '1', `Redis scenario skipped: ${run.skipped}`);
      return;
    }
    assert.equal(run.error, undefined, run.error);
    assert.equal(run.connected, config.redis.subscribers);
    for (const step of run.steps) {
      assertAllDelivered(step.overall, `redis at ${step.overall.rate}`);
      assert.equal(step.byNode.length, config.redis.nodes);
      assert.equal(
        step.byNode.reduce((sum, node) => sum + node.delivered, 0),
        step.overall.delivered,
      );
    }
    assert.ok(run.keysDeleted > 0, 'the run deleted its Redis keys');
  });

  it('writes results JSON, a Markdown table and SVG charts', () => {
    const latest = JSON.parse(readFileSync(written.latest, 'utf8')) as BenchResults;
    assert.deepEqual(latest, JSON.parse(JSON.stringify(results)));
    assert.equal(latest.schema, 1);
    assert.equal(latest.mode, 'smoke');
    assert.deepEqual(Object.keys(latest.scenarios).sort(), ['capacity', 'fanout', 'highRate', 'idle', 'ingest', 'manyTopics', 'redis']);
    assert.ok(latest.machine.cores >= 1 && latest.machine.fdHardLimit > 0);
    assert.ok(latest.targets.length > 0);
    for (const target of latest.targets) {
      assert.equal(typeof target.id, 'string');
      assert.equal(typeof target.measured, 'string');
      assert.ok(target.met === null || typeof target.met === 'boolean');
    }
    assert.deepEqual(JSON.parse(readFileSync(written.json, 'utf8')), latest);
    assert.match(readFileSync(written.markdown, 'utf8'), /\| server \|/);
    assert.ok(written.charts.length >= 5, `only ${written.charts.length} charts`);
    for (const chart of written.charts) {
      const svg = readFileSync(chart, 'utf8');
      assert.ok(svg.startsWith('<svg') && svg.trimEnd().endsWith('</svg>'), `${chart} is not an SVG document`);
    }
  });
});
