import type { Envelope } from '@herald/protocol';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { LogEvent } from '../encoding/log-event.js';
import type { StreamEntry } from './redis-tail-position.js';

// The Redis broker's vocabulary: its settings, the scripts it loads, and how stream
// entries and ids map to log events and positions. Kept apart from redis.ts, which
// is the broker's behaviour (append, tail, recover, probe).

/** Settings of the Redis log. */
export interface RedisBrokerOptions {
  /** Redis URL, such as `redis://127.0.0.1:6379/0`. */
  url: string;
  /** Prefix of every key the broker uses. Default `herald:`. */
  prefix?: string;
  /** Most events kept for resume. Default 10,000. */
  maxEvents?: number;
  /** Oldest event kept for resume, in milliseconds. Default one hour. */
  maxAgeMs?: number;
  /** How long one blocking read of the stream waits, in milliseconds. Default 5,000. */
  blockMs?: number;
  /**
   * How long a command may take, in milliseconds. Default 2,000. An append not
   * run by Redis within it is refused by Redis itself; a publish whose reply is
   * lost is then settled within as long again (503 when nothing was appended,
   * 504 `outcome_unknown` when the broker cannot tell).
   */
  commandTimeoutMs?: number;
  /** How often the broker checks that Redis answers (and reads its clock), in milliseconds. Default 1,000. */
  probeIntervalMs?: number;
  /** How long a probe may take before the log counts as unavailable, in milliseconds. Default 1,000. */
  probeTimeoutMs?: number;
  /** How long start() waits for Redis before failing, in milliseconds. Default 10,000. */
  connectTimeoutMs?: number;
  /** Logger for connection trouble; default none. */
  logger?: Logger;
}

/** The ioredis client with Herald's scripts defined on it (see redis-scripts.ts). */
export interface HeraldRedis extends Redis {
  heraldAppend(stream: string, meta: string, ...args: string[]): Promise<Array<string | number>>;
  heraldTrim(stream: string, meta: string, maxlen: string, cutoff: string): Promise<number>;
  heraldRead(stream: string, meta: string, ...args: string[]): Promise<[string, string?, Array<[string, string[]]>?]>;
  heraldOutcome(token: string, deadline: string): Promise<[string, string?]>;
  heraldState(stream: string, meta: string, candidate: string, epoch: string, seq: string): Promise<string[]>;
}

/** Ids the log generated itself: `<epoch>-<stream id>`. */
export const GENERATED_ID = /^([0-9a-f]{10})-(\d+-\d+)$/;
/** Stream ids `ms-seq` as fixed-width strings, so they compare like LogEvent positions. */
export function positionOf(streamId: string): string {
  const dash = streamId.indexOf('-');
  return `${streamId.slice(0, dash).padStart(15, '0')}-${streamId.slice(dash + 1).padStart(10, '0')}`;
}

/** The stream id `ms-seq` of a fixed-width position. */
export function streamIdOf(position: string): string {
  const dash = position.indexOf('-');
  return `${BigInt(position.slice(0, dash))}-${BigInt(position.slice(dash + 1))}`;
}

/** One stream entry as a log event (fields: p id, e epoch, t topic, y type, d data JSON, s timestamp). */
export function eventOfEntry([streamId, fields]: StreamEntry): LogEvent {
  const field: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) field[fields[i]!] = fields[i + 1]!;
  const id = field['p'] ?? `${field['e']}-${streamId}`;
  const timestamp = field['s']!;
  const envelope: Envelope = { id, topic: field['t']!, type: field['y']!, data: JSON.parse(field['d']!), timestamp };
  // The stored data is already JSON: the event splices it in rather than serialize it again.
  return new LogEvent(envelope, positionOf(streamId), Date.parse(timestamp), field['d']);
}

/** A Redis URL with any password replaced, for logs and errors. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
