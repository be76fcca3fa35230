/**
 * How big and how long each scenario is in each mode. `quick` keeps `npm run bench`
 * under 5 minutes on a 2-core machine; `full` is what docs/benchmarks.md reports;
 * `smoke` is the few-second version `npm test` runs so the harness cannot rot.
 */
import type { ServerName, Transport } from './harness/targets.js';

export type Mode = 'smoke' | 'quick' | 'full';

/**
 * How open-loop steps search for the highest rate that keeps up: start at `start`
 * times the probe's rate, grow by `growth` while steps pass, then bisect between
 * the last pass and the first failure `bisect` times. A failing step is retried
 * once (a single scheduling hiccup on a shared machine should not end the search).
 * At most `maxSteps` steps.
 */
export interface Ladder {
  start: number;
  growth: number;
  bisect: number;
  maxSteps: number;
}

/** One fan-out size of scenario 1. */
interface FanoutSize {
  subscribers: number;
  transports: Transport[];
  /** p99 above this fails a step. */
  latencyLimitMs: number;
}

/** Sizes and durations of every scenario. A scenario's `servers`, when given, narrows the run's list. */
export interface BenchConfig {
  mode: Mode;
  servers: ServerName[];
  fanout: { sizes: FanoutSize[]; warmMs: number; probeMs: number; stepMs: number; ladder: Ladder };
  highRate: { subscribers: number; rates: number[]; stepMs: number; transports: Transport[]; latencyLimitMs: number; servers?: ServerName[] };
  manyTopics: {
    topics: number;
    transports: Transport[];
    probeMs: number;
    stepMs: number;
    ladder: Ladder;
    window: number;
    latencyLimitMs: number;
    servers?: ServerName[];
  };
  idle: { connections: number; transports: Transport[]; settleMs: number; servers?: ServerName[] };
  capacity: { requested: number; holdMs: number; heartbeatMs: number; servers: ServerName[] };
  ingest: { durationMs: number; httpConnections: number; batch: number; wsWindow: number };
  redis: { nodes: number; subscribers: number; rates: number[]; stepMs: number; latencyLimitMs: number };
}

const ALL: ServerName[] = ['raw-limit', 'hand-rolled', 'socketio', 'herald'];

export const CONFIGS: Record<Mode, BenchConfig> = {
  smoke: {
    mode: 'smoke',
    servers: ALL,
    fanout: {
      sizes: [{ subscribers: 200, transports: ['ws', 'sse'], latencyLimitMs: 1000 }],
      warmMs: 0,
      probeMs: 300,
      stepMs: 300,
      ladder: { start: 0.3, growth: 1.5, bisect: 0, maxSteps: 1 },
    },
    highRate: { subscribers: 100, rates: [200], stepMs: 300, transports: ['ws'], latencyLimitMs: 1000, servers: ['herald'] },
    manyTopics: {
      topics: 100,
      transports: ['ws'],
      probeMs: 300,
      stepMs: 300,
      ladder: { start: 0.3, growth: 1.5, bisect: 0, maxSteps: 1 },
      window: 16,
      latencyLimitMs: 1000,
      servers: ['herald'],
    },
    idle: { connections: 100, transports: ['ws', 'sse'], settleMs: 100, servers: ['herald'] },
    capacity: { requested: 300, holdMs: 1200, heartbeatMs: 400, servers: ['herald'] },
    ingest: { durationMs: 200, httpConnections: 4, batch: 20, wsWindow: 16 },
    redis: { nodes: 3, subscribers: 90, rates: [100], stepMs: 300, latencyLimitMs: 1000 },
  },
  quick: {
    mode: 'quick',
    servers: ALL,
    fanout: {
      sizes: [
        { subscribers: 2000, transports: ['ws', 'sse'], latencyLimitMs: 100 },
        { subscribers: 10_000, transports: ['ws'], latencyLimitMs: 500 },
      ],
      warmMs: 300,
      probeMs: 1000,
      stepMs: 1000,
      ladder: { start: 0.9, growth: 1.15, bisect: 0, maxSteps: 2 },
    },
    highRate: { subscribers: 1000, rates: [100, 1000, 2000], stepMs: 1000, transports: ['ws'], latencyLimitMs: 100 },
    manyTopics: {
      topics: 5000,
      transports: ['ws'],
      probeMs: 1000,
      stepMs: 1000,
      ladder: { start: 0.9, growth: 1.2, bisect: 0, maxSteps: 1 },
      window: 32,
      latencyLimitMs: 100,
    },
    idle: { connections: 3000, transports: ['ws', 'sse'], settleMs: 1000 },
    capacity: { requested: 6000, holdMs: 6000, heartbeatMs: 2000, servers: ['herald'] },
    ingest: { durationMs: 800, httpConnections: 16, batch: 100, wsWindow: 64 },
    redis: { nodes: 3, subscribers: 1000, rates: [20, 100], stepMs: 1000, latencyLimitMs: 100 },
  },
  full: {
    mode: 'full',
    servers: ALL,
    fanout: {
      sizes: [
        { subscribers: 2000, transports: ['ws', 'sse'], latencyLimitMs: 100 },
        { subscribers: 10_000, transports: ['ws', 'sse'], latencyLimitMs: 500 },
      ],
      warmMs: 1000,
      probeMs: 3000,
      stepMs: 3000,
      ladder: { start: 0.8, growth: 1.1, bisect: 1, maxSteps: 8 },
    },
    highRate: { subscribers: 1000, rates: [100, 200, 500, 1000, 2000], stepMs: 3000, transports: ['ws'], latencyLimitMs: 100 },
    manyTopics: {
      topics: 10_000,
      transports: ['ws'],
      probeMs: 3000,
      stepMs: 3000,
      ladder: { start: 0.8, growth: 1.1, bisect: 0, maxSteps: 4 },
      window: 32,
      latencyLimitMs: 100,
    },
    idle: { connections: 20_000, transports: ['ws', 'sse'], settleMs: 3000 },
    capacity: { requested: 50_000, holdMs: 60_000, heartbeatMs: 5000, servers: ['herald'] },
    ingest: { durationMs: 3000, httpConnections: 16, batch: 100, wsWindow: 64 },
    redis: { nodes: 3, subscribers: 1000, rates: [20, 50, 100, 200], stepMs: 3000, latencyLimitMs: 100 },
  },
};
