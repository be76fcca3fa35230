/**
 * The servers under test and how the harness talks to each: the command that starts
 * it, the subscribe URL per transport, and its publish API.
 */
import { fileURLToPath } from 'node:url';
import type { PublishMode } from '../load/publisher.js';
import type { Wire } from '../load/subscribers.js';

/** Names of the servers compared. */
export type ServerName = 'raw-limit' | 'hand-rolled' | 'socketio' | 'herald';

/** Subscriber transports. */
export type Transport = 'ws' | 'sse';

/** Settings a scenario may give a server. */
export interface ServerSettings {
  port: number;
  /** Heartbeat interval in ms (Herald heartbeat, Socket.IO pingInterval). */
  heartbeatMs: number;
  /** Herald in Redis mode. */
  redis?: { url: string; prefix: string };
}

/** How to run and reach one server. */
export interface Target {
  name: ServerName;
  /** What the table calls it. */
  label: string;
  /** Node arguments (after `node`), run from the repository root. */
  args(settings: ServerSettings): string[];
  /** Subscribe path and wire per supported transport; `{topic}` is replaced. */
  subscribe: Partial<Record<Transport, { wire: Wire; path: string }>>;
  /** The WebSocket publish API (fan-out scenarios publish through it). */
  publish: { mode: PublishMode; path: string };
}

const HERALD_BIN = fileURLToPath(new URL('../../../packages/server/bin/herald.js', import.meta.url));
const server = (file: string): string => fileURLToPath(new URL(`../servers/${file}`, import.meta.url));
const baseline =
  (file: string) =>
  (s: ServerSettings): string[] => ['--import', 'tsx', server(file), '--port', String(s.port), '--host', '127.0.0.1', '--heartbeat', String(s.heartbeatMs)];

/** Every server, in the order tables list them. */
export const TARGETS: Record<ServerName, Target> = {
  'raw-limit': {
    name: 'raw-limit',
    label: 'raw write limit',
    args: baseline('raw-limit.ts'),
    subscribe: { ws: { wire: 'ws', path: '/ws?topic={topic}' }, sse: { wire: 'sse', path: '/events?topic={topic}' } },
    publish: { mode: 'ws', path: '/ws' },
  },
  'hand-rolled': {
    name: 'hand-rolled',
    label: 'hand-rolled ws/SSE',
    args: baseline('hand-rolled.ts'),
    subscribe: { ws: { wire: 'ws', path: '/ws?topic={topic}' }, sse: { wire: 'sse', path: '/events?topic={topic}' } },
    publish: { mode: 'ws', path: '/ws' },
  },
  socketio: {
    name: 'socketio',
    label: 'Socket.IO',
    args: baseline('socketio.ts'),
    subscribe: { ws: { wire: 'eio', path: '/socket.io/?EIO=4&transport=websocket&topic={topic}' } },
    publish: { mode: 'eio', path: '/socket.io/?EIO=4&transport=websocket' },
  },
  herald: {
    name: 'herald',
    label: 'Herald',
    args: (s) => [
      HERALD_BIN,
      'serve',
      '--port',
      String(s.port),
      '--host',
      '127.0.0.1',
      '--no-demo',
      '--log-level',
      'warn',
      '--max-connections',
      '100000',
      '--heartbeat',
      `${s.heartbeatMs}ms`,
      // The per-client WebSocket message budget (default 100/s) is meant for browser
      // clients; the benchmark's publisher is a trusted backend publishing thousands
      // of events per second over one connection.
      '--ws-message-rate',
      '100000000',
      ...(s.redis === undefined ? [] : ['--redis', s.redis.url, '--redis-prefix', s.redis.prefix]),
    ],
    subscribe: { ws: { wire: 'ws', path: '/ws?topic={topic}' }, sse: { wire: 'sse', path: '/events?topic={topic}' } },
    publish: { mode: 'ws', path: '/ws' },
  },
};

export const SERVER_NAMES = Object.keys(TARGETS) as ServerName[];
