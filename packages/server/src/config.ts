import { readFileSync } from 'node:fs';
import { isTopicPattern } from '@herald/protocol';
import { HUB_DEFAULTS, HubOptionsError, resolveHubOptions, type HubOptions } from './options.js';
import { parseBridgeMapping, type BridgeMapping } from './sources/redis-bridge.js';

type Kind =
  | 'port'
  | 'host'
  | 'count'
  | 'count0'
  | 'duration'
  | 'bytes'
  | 'boolean'
  | 'level'
  | 'path'
  | 'redis-url'
  | 'postgres-url'
  | 'http-url'
  | 'prefix'
  | 'text'
  | 'pem-file'
  | 'list'
  | 'patterns'
  | 'bridges';

/** Settings whose values never appear in error messages. */
const SECRET_SETTINGS: ReadonlySet<string> = new Set(['jwtSecret', 'publishKeys']);

/** Kinds whose flag may be given several times (and whose env value is comma-separated). */
export const REPEATABLE_KINDS: ReadonlySet<Kind> = new Set(['list', 'patterns', 'bridges']);

/** One setting of `herald serve`: its flag, environment variable and config-file key. */
export interface Setting {
  key: keyof ServeConfig;
  flag: string;
  env: string;
  kind: Kind;
  help: string;
}

/** Everything `herald serve` can be told. */
export interface ServeConfig {
  port: number;
  host: string;
  logLevel: string;
  demo: boolean;
  basePath: string;
  historySize: number;
  historyMaxAge: number;
  heartbeatInterval: number;
  sseRetry: number;
  maxEventBytes: number;
  maxBodyBytes: number;
  maxQueueBytes: number;
  maxTopicsPerConnection: number;
  maxConnections: number;
  shutdownTimeout: number;
  shutdownJitter: number;
  /** Redis URL; empty for the in-memory log. */
  redis: string;
  redisPrefix: string;
  redisBridge: BridgeMapping[];
  /** Postgres URL; empty for none. With it the hub relays the outbox. */
  postgres: string;
  pgListen: BridgeMapping[];
  pgPollInterval: number;
  pgRetention: number;
  jwtSecret?: string;
  jwtPublicKey?: string;
  jwksUrl?: string;
  jwtAlgorithms?: string[];
  jwtAudience?: string;
  jwtIssuer?: string;
  jwtClockSkew: number;
  tokenCookie: string;
  publicTopics: readonly string[];
  publishKeys: readonly string[];
  authorizeUrl?: string;
  authorizeTimeout: number;
  authorizeCacheTtl: number;
  allowedOrigins: readonly string[];
  maxConnectionsPerIp: number;
  publishRate: number;
  publishBurst: number;
  wsMessageRate: number;
  trustProxy: boolean;
  headersTimeout: number;
  requestTimeout: number;
}

/** Defaults of `herald serve`: the hub's, plus port 8080 on loopback with the demo page on. */
export const SERVE_DEFAULTS: ServeConfig = {
  ...HUB_DEFAULTS,
  port: 8080,
  // Empty: loopback without authentication, every interface with it (see serve()).
  host: '',
  logLevel: 'info',
  demo: true,
  redis: '',
  redisPrefix: 'herald:',
  redisBridge: [],
  postgres: '',
  pgListen: [],
  pgPollInterval: 1000,
  pgRetention: 7 * 24 * 3600 * 1000,
};

/** The settings table; docs/configuration in README.md lists the same rows. */
export const SETTINGS: readonly Setting[] = [
  { key: 'port', flag: 'port', env: 'HERALD_PORT', kind: 'port', help: 'port to listen on (0 picks a free one)' },
  { key: 'host', flag: 'host', env: 'HERALD_HOST', kind: 'host', help: 'address to listen on (default 127.0.0.1 without authentication, 0.0.0.0 with it)' },
  { key: 'logLevel', flag: 'log-level', env: 'HERALD_LOG_LEVEL', kind: 'level', help: 'fatal, error, warn, info, debug, trace or silent' },
  { key: 'demo', flag: 'demo', env: 'HERALD_DEMO', kind: 'boolean', help: 'serve the demo page at / (--no-demo to turn off)' },
  { key: 'basePath', flag: 'base-path', env: 'HERALD_BASE_PATH', kind: 'path', help: 'path prefix of every endpoint, such as /realtime' },
  { key: 'historySize', flag: 'history-size', env: 'HERALD_HISTORY_SIZE', kind: 'count', help: 'events kept for resume' },
  { key: 'historyMaxAge', flag: 'history-age', env: 'HERALD_HISTORY_AGE', kind: 'duration', help: 'age of the oldest event kept for resume' },
  { key: 'heartbeatInterval', flag: 'heartbeat', env: 'HERALD_HEARTBEAT', kind: 'duration', help: 'interval of heartbeat messages' },
  { key: 'sseRetry', flag: 'sse-retry', env: 'HERALD_SSE_RETRY', kind: 'duration', help: 'reconnect delay sent to EventSource clients' },
  { key: 'maxEventBytes', flag: 'max-event-size', env: 'HERALD_MAX_EVENT_SIZE', kind: 'bytes', help: 'largest serialized event data' },
  { key: 'maxBodyBytes', flag: 'max-body-size', env: 'HERALD_MAX_BODY_SIZE', kind: 'bytes', help: 'largest request body or WebSocket frame' },
  { key: 'maxQueueBytes', flag: 'max-queue-size', env: 'HERALD_MAX_QUEUE_SIZE', kind: 'bytes', help: 'outbound bytes a connection may have waiting before it is dropped' },
  { key: 'maxTopicsPerConnection', flag: 'max-topics', env: 'HERALD_MAX_TOPICS', kind: 'count', help: 'topics one connection may hold' },
  { key: 'maxConnections', flag: 'max-connections', env: 'HERALD_MAX_CONNECTIONS', kind: 'count', help: 'open connections the hub accepts' },
  { key: 'shutdownTimeout', flag: 'shutdown-timeout', env: 'HERALD_SHUTDOWN_TIMEOUT', kind: 'duration', help: 'how long shutdown waits for clients to leave' },
  { key: 'shutdownJitter', flag: 'shutdown-jitter', env: 'HERALD_SHUTDOWN_JITTER', kind: 'duration', help: 'window over which clients spread their reconnects after a shutdown' },
  { key: 'redis', flag: 'redis', env: 'REDIS_URL', kind: 'redis-url', help: 'keep the log in Redis (redis://host:port/db) so several hub nodes share it' },
  { key: 'redisPrefix', flag: 'redis-prefix', env: 'HERALD_REDIS_PREFIX', kind: 'prefix', help: 'prefix of the keys the hub uses in Redis' },
  { key: 'redisBridge', flag: 'redis-bridge', env: 'HERALD_REDIS_BRIDGE', kind: 'bridges', help: 'republish a Redis pub/sub channel (glob allowed) into a topic: channel=topic; repeatable, comma-separated in the env' },
  { key: 'postgres', flag: 'postgres', env: 'DATABASE_URL', kind: 'postgres-url', help: 'relay the Postgres outbox (herald pg outbox install) into the log' },
  { key: 'pgListen', flag: 'pg-listen', env: 'HERALD_PG_LISTEN', kind: 'bridges', help: 'relay an existing NOTIFY channel into a topic: channel=topic (lossy across disconnects); repeatable' },
  { key: 'pgPollInterval', flag: 'pg-poll-interval', env: 'HERALD_PG_POLL_INTERVAL', kind: 'duration', help: 'how often the outbox is read without a NOTIFY' },
  { key: 'pgRetention', flag: 'pg-retention', env: 'HERALD_PG_RETENTION', kind: 'duration', help: 'how long delivered outbox rows are kept' },
  { key: 'jwtSecret', flag: 'jwt-secret', env: 'HERALD_JWT_SECRET', kind: 'text', help: 'HS256 secret (32+ characters); turns authentication on' },
  { key: 'jwtPublicKey', flag: 'jwt-public-key', env: 'HERALD_JWT_PUBLIC_KEY', kind: 'pem-file', help: 'PEM file of an RSA, EC or Ed25519 public key; turns authentication on' },
  { key: 'jwksUrl', flag: 'jwks-url', env: 'HERALD_JWKS_URL', kind: 'http-url', help: 'JSON Web Key Set URL; turns authentication on' },
  { key: 'jwtAlgorithms', flag: 'jwt-algorithms', env: 'HERALD_JWT_ALGORITHMS', kind: 'list', help: 'allowed token algorithms (default: fits the key)' },
  { key: 'jwtAudience', flag: 'jwt-audience', env: 'HERALD_JWT_AUDIENCE', kind: 'text', help: 'required aud claim' },
  { key: 'jwtIssuer', flag: 'jwt-issuer', env: 'HERALD_JWT_ISSUER', kind: 'text', help: 'required iss claim' },
  { key: 'jwtClockSkew', flag: 'jwt-clock-skew', env: 'HERALD_JWT_CLOCK_SKEW', kind: 'duration', help: 'clock skew tolerated for exp and nbf' },
  { key: 'tokenCookie', flag: 'token-cookie', env: 'HERALD_TOKEN_COOKIE', kind: 'text', help: 'cookie read for a token' },
  { key: 'publicTopics', flag: 'public', env: 'HERALD_PUBLIC', kind: 'patterns', help: 'topic pattern anonymous clients may subscribe to; repeatable' },
  { key: 'publishKeys', flag: 'publish-key', env: 'HERALD_PUBLISH_KEYS', kind: 'list', help: 'API key allowed to publish (Authorization: Bearer); repeatable for rotation' },
  { key: 'authorizeUrl', flag: 'authorize-url', env: 'HERALD_AUTHORIZE_URL', kind: 'http-url', help: 'URL asked {sub, claims, topics} before each subscription' },
  { key: 'authorizeTimeout', flag: 'authorize-timeout', env: 'HERALD_AUTHORIZE_TIMEOUT', kind: 'duration', help: 'how long the authorize URL may take (then refused)' },
  { key: 'authorizeCacheTtl', flag: 'authorize-cache-ttl', env: 'HERALD_AUTHORIZE_CACHE_TTL', kind: 'duration', help: 'how long authorize answers are reused' },
  { key: 'allowedOrigins', flag: 'allowed-origins', env: 'HERALD_ALLOWED_ORIGINS', kind: 'list', help: 'browser origins allowed (WebSocket Origin check, CORS); * for any without credentials' },
  { key: 'maxConnectionsPerIp', flag: 'max-connections-per-ip', env: 'HERALD_MAX_CONNECTIONS_PER_IP', kind: 'count0', help: 'connections one address may hold (0: no limit)' },
  { key: 'publishRate', flag: 'publish-rate', env: 'HERALD_PUBLISH_RATE', kind: 'count0', help: 'events per second per publisher (0: no limit)' },
  { key: 'publishBurst', flag: 'publish-burst', env: 'HERALD_PUBLISH_BURST', kind: 'count0', help: 'events a publisher may send at once (0: twice the rate)' },
  { key: 'wsMessageRate', flag: 'ws-message-rate', env: 'HERALD_WS_MESSAGE_RATE', kind: 'count', help: 'messages per second a WebSocket client may send' },
  { key: 'trustProxy', flag: 'trust-proxy', env: 'HERALD_TRUST_PROXY', kind: 'boolean', help: 'take the client address from X-Forwarded-For' },
  { key: 'headersTimeout', flag: 'headers-timeout', env: 'HERALD_HEADERS_TIMEOUT', kind: 'duration', help: 'time a client has to send its request headers' },
  { key: 'requestTimeout', flag: 'request-timeout', env: 'HERALD_REQUEST_TIMEOUT', kind: 'duration', help: 'time a client has to send a whole request' },
];

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1000, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };

/** A bad setting: the message names it and every place it can be set. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Merges settings: flags over environment variables over the config file over
 * defaults. Every value is parsed by its kind and a bad one throws a ConfigError
 * naming the setting, such as `invalid --heartbeat (HERALD_HEARTBEAT): expected a
 * duration such as 25s or 500ms, got "soon"`.
 */
export function loadServeConfig(
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  configFile?: string,
): ServeConfig {
  const file = configFile === undefined ? {} : readConfigFile(configFile);
  const known = new Set(SETTINGS.map((s) => s.key as string));
  for (const key of Object.keys(file)) {
    if (!known.has(key)) throw new ConfigError(`unknown setting "${key}" in ${configFile}; known: ${[...known].join(', ')}`);
  }
  const config: Record<string, unknown> = { ...SERVE_DEFAULTS };
  for (const setting of SETTINGS) {
    const flagValue = flags[camel(setting.flag)];
    const [raw, source] =
      flagValue !== undefined
        ? [flagValue, `--${setting.flag}`]
        : env[setting.env] !== undefined && env[setting.env] !== ''
          ? [env[setting.env], setting.env]
          : [file[setting.key], `"${setting.key}" in ${configFile}`];
    if (raw === undefined) continue;
    try {
      config[setting.key] = parseValue(setting.kind, raw);
    } catch (error) {
      const shown = SECRET_SETTINGS.has(setting.key) ? '(value not shown: it is a secret)' : JSON.stringify(raw);
      throw new ConfigError(
        `invalid ${source}: ${(error as Error).message}, got ${shown} ` +
          `(the setting ${setting.key}: flag --${setting.flag}, env ${setting.env}, config key "${setting.key}")`,
      );
    }
  }
  checkAgainstHub(config as unknown as ServeConfig);
  return config as unknown as ServeConfig;
}

// The hub has rules the value kinds cannot express (a heartbeat of at least 100 ms);
// report those in the same words as a bad value, naming the flag and variable.
function checkAgainstHub(config: ServeConfig): void {
  try {
    resolveHubOptions(hubOptionsOf(config));
  } catch (error) {
    if (!(error instanceof HubOptionsError)) throw error;
    const first = error.issues[0]!;
    // List options report the item (publishKeys.0); the setting is the first segment.
    const setting = SETTINGS.find((s) => s.key === first.option.split('.')[0]);
    if (setting === undefined) throw new ConfigError(error.message);
    const problem = SECRET_SETTINGS.has(setting.key) ? first.problem.replace(/, got .*$/, '') : first.problem;
    throw new ConfigError(`invalid --${setting.flag} (env ${setting.env}, config key "${setting.key}"): ${problem}`);
  }
}

/** The hub options part of a serve config. */
export function hubOptionsOf(config: ServeConfig): HubOptions {
  const {
    port: _port,
    host: _host,
    logLevel: _level,
    redis: _redis,
    redisPrefix: _prefix,
    redisBridge: _bridge,
    postgres: _postgres,
    pgListen: _listen,
    pgPollInterval: _poll,
    pgRetention: _retention,
    ...options
  } = config;
  return options;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a JSON object of settings`);
  }
  return parsed as Record<string, unknown>;
}

/** Parses one value of a kind, from a flag or environment string or a config-file JSON value. */
export function parseValue(kind: Kind, raw: unknown): unknown {
  switch (kind) {
    case 'port': {
      const n = toInteger(raw, 'expected a port number from 0 to 65535');
      if (n < 0 || n > 65535) throw new Error('expected a port number from 0 to 65535');
      return n;
    }
    case 'count': {
      const n = toInteger(raw, 'expected a positive integer');
      if (n < 1) throw new Error('expected a positive integer');
      return n;
    }
    case 'count0':
      return toInteger(raw, 'expected an integer >= 0');
    case 'text':
      if (typeof raw === 'string' && raw !== '' && !/[\0-\x1f]/.test(raw)) return raw;
      throw new Error('expected a non-empty string without control characters');
    case 'http-url':
      if (typeof raw === 'string' && /^https?:\/\/\S+$/.test(raw)) return raw;
      throw new Error('expected an http:// or https:// URL');
    case 'pem-file': {
      if (typeof raw !== 'string' || raw === '') throw new Error('expected the path of a PEM file');
      let text: string;
      try {
        text = readFileSync(raw, 'utf8');
      } catch (error) {
        throw new Error(`cannot read the key file: ${(error as Error).message}`);
      }
      if (!text.includes('-----BEGIN PUBLIC KEY-----')) throw new Error('the file holds no PEM public key (BEGIN PUBLIC KEY)');
      return text;
    }
    case 'list':
    case 'patterns': {
      const items = (Array.isArray(raw) ? raw : [raw]).flatMap((item) => (typeof item === 'string' ? item.split(',') : [item]));
      const values = items.map((item) => (typeof item === 'string' ? item.trim() : item)).filter((item) => item !== '');
      if (!values.every((item): item is string => typeof item === 'string')) throw new Error('expected a list of strings');
      if (kind === 'patterns') {
        const bad = values.find((item) => !isTopicPattern(item));
        if (bad !== undefined) throw new Error(`${JSON.stringify(bad)} is not a topic pattern`);
      }
      return values;
    }
    case 'duration':
      return withUnit(raw, DURATION_UNITS, 'ms', 'expected a duration such as 25s, 500ms or 1h');
    case 'bytes':
      return withUnit(raw, BYTE_UNITS, 'b', 'expected a size such as 65536, 64KiB or 1MiB');
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'string' && /^(true|1|yes|on)$/i.test(raw)) return true;
      if (typeof raw === 'string' && /^(false|0|no|off)$/i.test(raw)) return false;
      throw new Error('expected true or false');
    case 'level':
      if (typeof raw === 'string' && LEVELS.has(raw)) return raw;
      throw new Error(`expected one of ${[...LEVELS].join(', ')}`);
    case 'host':
      if (typeof raw === 'string' && /^[A-Za-z0-9.:\-[\]]+$/.test(raw)) return raw;
      throw new Error('expected a host name or IP address');
    case 'path':
      if (typeof raw === 'string' && /^(\/[A-Za-z0-9\-_.~]+)*$/.test(raw)) return raw;
      throw new Error('expected "" or a path such as /realtime (no trailing slash)');
    case 'postgres-url':
      if (typeof raw === 'string' && (raw === '' || /^postgres(ql)?:\/\/\S+$/.test(raw))) return raw;
      throw new Error('expected a URL such as postgres://user@127.0.0.1:5432/db');
    case 'redis-url':
      if (typeof raw === 'string' && (raw === '' || /^rediss?:\/\/\S+$/.test(raw))) return raw;
      throw new Error('expected a URL such as redis://127.0.0.1:6379');
    case 'prefix':
      if (typeof raw === 'string' && /^[A-Za-z0-9\-_.:{}]{1,64}$/.test(raw)) return raw;
      throw new Error('expected up to 64 letters, digits and -_.:{}');
    case 'bridges': {
      const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : [raw];
      return items.filter((item) => item !== '').map((item) => {
        if (typeof item !== 'string') throw new Error('expected channel=topic strings');
        return parseBridgeMapping(item.trim());
      });
    }
  }
}

function toInteger(raw: unknown, message: string): number {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n)) throw new Error(message);
  return n;
}

function withUnit(raw: unknown, units: Record<string, number>, plain: string, message: string): number {
  if (typeof raw === 'number') {
    if (!Number.isSafeInteger(raw) || raw < 0) throw new Error(message);
    return raw;
  }
  const match = typeof raw === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(raw) : null;
  const unit = match?.[2]?.toLowerCase() || plain;
  const factor = units[unit];
  if (match === null || factor === undefined) throw new Error(message);
  return Math.round(Number(match[1]) * factor);
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
