/**
 * The results file: everything a run measured plus the machine and method, as
 * written to bench/results/<timestamp>.json and latest.json.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { Mode } from './config.js';
import { HAVE_TASKSET, loadAverage } from './harness/processes.js';
import type { LadderRun, RateRun } from './scenarios/fanout.js';
import type { IngestRun } from './scenarios/ingest.js';
import type { CapacityRun, IdleRun } from './scenarios/memory.js';
import type { RedisRun } from './scenarios/redis.js';

/** What the machine was. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  kernel: string;
  fdHardLimit: number;
  ephemeralPorts: string;
  somaxconn: number;
  taskset: boolean;
  versions: Record<string, string>;
}

/** A target of the issue and whether this run met it. */
export interface TargetCheck {
  id: string;
  target: string;
  measured: string;
  /** null: not measured in this run. */
  met: boolean | null;
  note?: string;
}

/** A whole run. */
export interface BenchResults {
  schema: 1;
  mode: Mode;
  command: string;
  startedAt: string;
  finishedAt: string;
  durationS: number;
  machine: MachineInfo;
  /** Load average before and after: other work on the machine makes numbers noisy. */
  load: { before: ReturnType<typeof loadAverage>; after: ReturnType<typeof loadAverage> };
  method: Record<string, string | number | boolean>;
  scenarios: {
    fanout: LadderRun[];
    highRate: RateRun[];
    manyTopics: LadderRun[];
    idle: IdleRun[];
    capacity: CapacityRun[];
    ingest: IngestRun[];
    redis: RedisRun | null;
  };
  targets: TargetCheck[];
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function versionOf(pkg: string): string {
  try {
    const text = readFileSync(new URL(`../../node_modules/${pkg}/package.json`, import.meta.url), 'utf8');
    return (JSON.parse(text) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Reads the machine's facts. */
export function machineInfo(fdHardLimit: number): MachineInfo {
  const heraldPkg = JSON.parse(readFileSync(new URL('../../packages/server/package.json', import.meta.url), 'utf8')) as { version: string };
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim(),
    fdHardLimit,
    ephemeralPorts: read('/proc/sys/net/ipv4/ip_local_port_range').trim().replace(/\s+/, '-'),
    somaxconn: Number(read('/proc/sys/net/core/somaxconn').trim()),
    taskset: HAVE_TASKSET,
    versions: { herald: heraldPkg.version, ws: versionOf('ws'), 'socket.io': versionOf('socket.io'), 'engine.io': versionOf('engine.io') },
  };
}
