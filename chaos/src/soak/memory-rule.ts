import type { MemorySample } from '../infra/probed-hub.js';

/** The memory rule's bounds. */
export interface MemoryBounds {
  /** Samples taken before this many ms after the first one are warm-up (caches, the log filling up). */
  warmupMs: number;
  /** Largest allowed least-squares slope of heapUsed after warm-up, bytes per minute. */
  heapSlopePerMinute: number;
  /** Largest allowed growth of RSS from the first sample after warm-up to the last, as a fraction (0.25 = 25 %). */
  rssGrowth: number;
  /** Fewest samples after warm-up for a verdict. */
  minSamples: number;
}

/** The verdict of the memory rule. */
export interface MemoryVerdict {
  samples: number;
  heapSlopePerMinute: number;
  rssAfterWarmup: number;
  rssAtEnd: number;
  rssGrowth: number;
  passed: boolean;
  failures: string[];
}

/** Least-squares slope of `y` over `x`. */
export function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const MIB = 1024 * 1024;

/**
 * Memory must not grow after warm-up: the slope of heapUsed (sampled after a
 * full GC) stays under `heapSlopePerMinute`, and RSS at the end is within
 * `rssGrowth` of RSS right after warm-up.
 */
export function judgeMemory(all: MemorySample[], bounds: MemoryBounds): MemoryVerdict {
  const start = all[0]?.at ?? 0;
  const after = all.filter((s) => s.at - start >= bounds.warmupMs);
  const heapSlopePerMinute = slope(after.map((s) => [(s.at - start) / 60_000, s.heapUsed]));
  const rssAfterWarmup = after[0]?.rss ?? 0;
  const rssAtEnd = after[after.length - 1]?.rss ?? 0;
  const rssGrowth = rssAfterWarmup === 0 ? 0 : rssAtEnd / rssAfterWarmup - 1;
  const failures: string[] = [];
  if (after.length < bounds.minSamples) failures.push(`only ${after.length} samples after warm-up (need ${bounds.minSamples}): run longer`);
  if (heapSlopePerMinute > bounds.heapSlopePerMinute)
    failures.push(`heapUsed grows ${(heapSlopePerMinute / MIB).toFixed(2)} MiB/min after warm-up (bound ${(bounds.heapSlopePerMinute / MIB).toFixed(2)})`);
  if (rssGrowth > bounds.rssGrowth) failures.push(`RSS grew ${(rssGrowth * 100).toFixed(1)} % after warm-up (bound ${(bounds.rssGrowth * 100).toFixed(0)} %)`);
  return { samples: after.length, heapSlopePerMinute, rssAfterWarmup, rssAtEnd, rssGrowth, passed: failures.length === 0, failures };
}
