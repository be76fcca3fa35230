import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_KINDS } from './clients/client.js';
import { Session } from './experiments/session.js';
import { LifetimeProxy } from './infra/lifetime-proxy.js';
import { startProbedHub } from './infra/probed-hub.js';
import { runSeed, seededRandom, sleep } from './random.js';
import { markdown, RESULTS_DIR, writeResults } from './report.js';
import { IdleFleet } from './soak/idle-fleet.js';
import { judgeMemory, type MemoryBounds } from './soak/memory-rule.js';

const MIB = 1024 * 1024;

function knob(name: string, fallback: number): number {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : Number(value);
}

/**
 * `npm run soak`: one hub process, 2,000 idle subscribers (half SSE, half
 * WebSocket) with churn, and 50 active ones (every client kind, through a proxy
 * that cuts each connection after 5–30 s) receiving about 100 events/s. The hub's
 * RSS and heapUsed (after a full GC) are sampled every 10 s; it fails when memory
 * grows after warm-up (see soak/memory-rule.ts and docs/reliability.md), when the
 * hub crashes, or when an active subscriber misses, duplicates or reorders.
 */
async function main(): Promise<void> {
  const minutes = knob('SOAK_MINUTES', 10);
  const idleCount = knob('SOAK_IDLE', 2000);
  const activeCount = knob('SOAK_ACTIVE', 50);
  const sampleMs = knob('SOAK_SAMPLE_SECONDS', 10) * 1000;
  const churnPerSecond = knob('SOAK_CHURN_PER_SECOND', 10);
  const durationMs = minutes * 60_000;
  const bounds: MemoryBounds = {
    warmupMs: Math.min(2 * 60_000, durationMs * 0.2),
    heapSlopePerMinute: knob('SOAK_HEAP_SLOPE_MIB', 1) * MIB,
    rssGrowth: knob('SOAK_RSS_GROWTH', 0.25),
    minSamples: 3,
  };
  const seed = runSeed();
  const random = seededRandom(seed);
  const say = (line: string): void => void process.stderr.write(`soak: ${line}\n`);
  say(`seed ${seed}, ${minutes} min, ${idleCount} idle + ${activeCount} active subscribers, churn ${churnPerSecond}/s`);

  const tmp = join(RESULTS_DIR, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const memoryFile = join(tmp, `soak-memory-${process.pid}.jsonl`);
  rmSync(memoryFile, { force: true });
  const hub = await startProbedHub(['--history-size', '2000', '--heartbeat', '10s'], memoryFile, sampleMs);
  const proxy = await LifetimeProxy.start(() => Number(new URL(hub.url).port), { minMs: 5000, maxMs: 30_000, random });
  const session = new Session({ durationMs, subscribersPerKind: Math.max(1, Math.round(activeCount / CLIENT_KINDS.length)), random, log: say });
  const fleet = new IdleFleet(hub.url, 200, random);
  const started = Date.now();
  try {
    const patterns = Array.from({ length: 10 }, (_, i) => `soak/active/${i}`);
    session.subscribe(CLIENT_KINDS, patterns, () => () => proxy.url);
    await fleet.open(idleCount);
    await session.waitSubscribed();
    say(`${fleet.size} idle connections open (${fleet.failed} failed), ${session.clients.length} active subscribers`);
    const topics = patterns;
    for (let i = 0; i < 2; i++) {
      session.publish({
        name: `p${i}`,
        url: () => hub.url,
        topics,
        mode: 'until-acked',
        intervalMs: 15,
        attemptTimeoutMs: 3000,
        maxEvents: 10_000_000,
        graceMs: 10_000,
      });
    }
    let lastReport = Date.now();
    while (Date.now() - started < durationMs && !hub.crashed()) {
      await Promise.all([fleet.churn(churnPerSecond), sleep(1000)]);
      if (Date.now() - lastReport >= 60_000) {
        lastReport = Date.now();
        const last = hub.samples().at(-1);
        say(
          `${Math.round((Date.now() - started) / 60_000)} min: ${fleet.size} idle, ${session.ledger.ackedCount()} events acknowledged${last ? `, hub rss ${(last.rss / MIB).toFixed(1)} MiB heap ${(last.heapUsed / MIB).toFixed(1)} MiB` : ''}`,
        );
      }
    }
    const published = await session.stopPublishing();
    proxy.calm();
    const drained = await session.drain(15_000);
    const samples = hub.samples();
    const memory = judgeMemory(samples, bounds);
    const crashes = hub.crashed() ? 1 : 0;
    const delivery = session.result({
      name: 'soak-active',
      title: `${session.clients.length} active subscribers (every client kind, cut every 5–30 s) during the soak`,
      knobs: { minutes, idle: idleCount, active: session.clients.length, churnPerSecond },
      published,
      faults: proxy.cuts + fleet.opened,
      crashes,
      notes: [
        `${proxy.cuts} active connections cut; ${fleet.opened} idle connections opened in all (${fleet.failed} failed)`,
        ...(drained ? [] : ['drain timed out after 15 s']),
      ],
    });
    const passed = memory.passed && delivery.passed;
    const table = [
      '| t (s) | rss (MiB) | heapUsed (MiB) | heapTotal (MiB) | external (MiB) |',
      '|---|---|---|---|---|',
      ...samples.map(
        (s) =>
          `| ${Math.round((s.at - samples[0]!.at) / 1000)} | ${(s.rss / MIB).toFixed(1)} | ${(s.heapUsed / MIB).toFixed(1)} | ${(s.heapTotal / MIB).toFixed(1)} | ${(s.external / MIB).toFixed(1)} |`,
      ),
    ];
    const md = [
      `# Soak run ${new Date().toISOString()}`,
      '',
      `Seed ${seed}. ${minutes} min, ${idleCount} idle subscribers (half SSE, half WebSocket, ${churnPerSecond} replaced per second), ${session.clients.length} active.`,
      '',
      `Memory rule: after a warm-up of ${Math.round(bounds.warmupMs / 1000)} s, the least-squares slope of heapUsed (after a full GC) at most ${(bounds.heapSlopePerMinute / MIB).toFixed(2)} MiB/min, and RSS at the end within ${(bounds.rssGrowth * 100).toFixed(0)} % of RSS after warm-up.`,
      '',
      `Result: heapUsed slope ${(memory.heapSlopePerMinute / MIB).toFixed(3)} MiB/min over ${memory.samples} samples; RSS ${(memory.rssAfterWarmup / MIB).toFixed(1)} → ${(memory.rssAtEnd / MIB).toFixed(1)} MiB (${(memory.rssGrowth * 100).toFixed(1)} %). Memory: ${memory.passed ? 'pass' : '**FAIL**'}.`,
      ...memory.failures.map((f) => `- ${f}`),
      '',
      markdown(delivery),
      '',
      `Verdict: ${passed ? 'pass' : '**FAIL**'}`,
      '',
      '## Samples',
      '',
      ...table,
    ].join('\n');
    writeResults('soak', { seed, at: new Date().toISOString(), bounds, memory, samples, delivery, passed }, md);
    process.stdout.write(`${md}\n`);
    process.exitCode = passed ? 0 : 1;
  } finally {
    fleet.close();
    await session.closeClients();
    await proxy.close();
    await hub.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`soak: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 2;
});
