import { z } from 'zod';
import type { BridgeMapping } from '../sources/redis-bridge.js';
import { nonNegativeInt } from '../options.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * What `herald serve` needs beyond the hub's own options: where to listen, how to
 * log, and which sources to start. Every duration is in milliseconds. The hub's
 * options are declared once, in options.ts; these are declared here, once.
 */
export interface ServeOptions {
  /** Port to listen on; 0 picks a free one. Default 8080. */
  port?: number;
  /** Address to listen on. Default empty: 127.0.0.1 without authentication, 0.0.0.0 with it. */
  host?: string;
  /** pino level: fatal, error, warn, info, debug, trace or silent. Default info. */
  logLevel?: (typeof LOG_LEVELS)[number];
  /** Redis URL of a shared log, so several hub nodes serve one history. Default empty: the in-memory log. */
  redis?: string;
  /** Prefix of every key the hub writes in Redis. Default `herald:`. */
  redisPrefix?: string;
  /** Redis pub/sub channels (globs allowed) republished into topics. Default none. */
  redisBridge?: BridgeMapping[];
  /** Postgres URL; with it the hub relays the outbox (`herald pg outbox install`). Default empty: none. */
  postgres?: string;
  /** Existing NOTIFY channels relayed into topics (lossy across disconnects). Default none. */
  pgListen?: BridgeMapping[];
  /** How often the outbox is read when no NOTIFY arrives. Default 1 s. */
  pgPollInterval?: number;
  /** How long delivered outbox rows are kept. Default 7 days. */
  pgRetention?: number;
}

/** The serve options with every default filled in. */
export type ResolvedServeOptions = Required<ServeOptions>;

/** Defaults of the serve options. */
export const SERVE_OPTION_DEFAULTS: ResolvedServeOptions = {
  port: 8080,
  // Empty: loopback without authentication, every interface with it (the serve command decides).
  host: '',
  logLevel: 'info',
  redis: '',
  redisPrefix: 'herald:',
  redisBridge: [],
  postgres: '',
  pgListen: [],
  pgPollInterval: 1000,
  pgRetention: 7 * 24 * 3600 * 1000,
};

const bridges = z.array(z.object({ channel: z.string().min(1), topic: z.string().min(1) }), { error: 'expected channel=topic mappings' });

/** The one validator of the serve options (their values, once converted from flags, environment or file). */
export const serveOptionsSchema = z
  .object({
    port: z
      .number({ error: 'expected a port number from 0 to 65535' })
      .int('expected a port number from 0 to 65535')
      .min(0, 'expected a port number from 0 to 65535')
      .max(65535, 'expected a port number from 0 to 65535'),
    host: z.string({ error: 'expected a host name or IP address' }).regex(/^[A-Za-z0-9.:\-[\]]+$/, 'expected a host name or IP address'),
    logLevel: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }),
    redis: z.string({ error: 'expected a URL such as redis://127.0.0.1:6379' }).regex(/^(rediss?:\/\/\S+)?$/, 'expected a URL such as redis://127.0.0.1:6379'),
    redisPrefix: z
      .string({ error: 'expected up to 64 letters, digits and -_.:{}' })
      .regex(/^[A-Za-z0-9\-_.:{}]{1,64}$/, 'expected up to 64 letters, digits and -_.:{}'),
    redisBridge: bridges,
    postgres: z
      .string({ error: 'expected a URL such as postgres://user@127.0.0.1:5432/db' })
      .regex(/^(postgres(ql)?:\/\/\S+)?$/, 'expected a URL such as postgres://user@127.0.0.1:5432/db'),
    pgListen: bridges,
    pgPollInterval: nonNegativeInt('milliseconds'),
    pgRetention: nonNegativeInt('milliseconds'),
  })
  .partial()
  .strict();

/**
 * The rules between serve options (a source that needs its connection), as
 * messages naming the flags. The serve command checks them before it starts
 * anything; loading settings does not, so that a config can be loaded, merged
 * and inspected in parts.
 */
export function serveOptionsProblems(options: ResolvedServeOptions): string[] {
  const problems: string[] = [];
  if (options.pgListen.length > 0 && options.postgres === '') problems.push('--pg-listen needs --postgres (or DATABASE_URL)');
  if (options.redisBridge.length > 0 && options.redis === '') {
    problems.push('--redis-bridge needs --redis (or REDIS_URL): the bridge reads from that Redis');
  }
  return problems;
}
