import { HUB_DEFAULTS, type ResolvedHubOptions } from '../options.js';
import { formatValue, type Conversion } from './convert.js';
import { SERVE_OPTION_DEFAULTS, type ResolvedServeOptions } from './serve-options.js';

/** Hub options that only a program embedding the hub can give: objects and functions have no flag. */
type EmbedOnlyOption = 'broker' | 'logger' | 'authorize';

/**
 * Everything `herald serve` can be told: the hub's options (declared in options.ts)
 * minus the embed-only ones, plus the serve options (serve-options.ts), defaults filled in.
 */
export type ServeConfig = Omit<ResolvedHubOptions, EmbedOnlyOption> & ResolvedServeOptions;

/** How one option is reached from the command line. */
interface SettingRow {
  /** The flag without its dashes; booleans also get `--no-<flag>`. */
  flag: string;
  /** The environment variable (lists in it are comma-separated). */
  env: string;
  /** How a typed value becomes the option's value. */
  convert: Conversion;
  /** One line for `--help`. */
  help: string;
  /** The default in words, where the value alone would mislead (an empty host means "it depends"). */
  defaultText?: string;
  /** Never shown in error messages. */
  secret?: true;
}

/** One setting of `herald serve`: its config-file key (the option's name) and its row. */
export type Setting = SettingRow & { key: keyof ServeConfig };

// One row per option; the row's key is the option's name and the config-file key.
// `satisfies` makes the compiler refuse an option without a row (and a row for no
// option): adding a setting means its option (type, JSDoc, default and schema line
// in options.ts, or serve-options.ts for what only the command uses) and its row
// here; the README row follows, and test/settings-doc.test.ts fails until it does.
const ROWS = {
  port: { flag: 'port', env: 'HERALD_PORT', convert: 'number', help: 'port to listen on (0 picks a free one)' },
  host: { flag: 'host', env: 'HERALD_HOST', convert: 'string', help: 'address to listen on', defaultText: '127.0.0.1, or 0.0.0.0 with authentication' },
  logLevel: { flag: 'log-level', env: 'HERALD_LOG_LEVEL', convert: 'string', help: 'fatal, error, warn, info, debug, trace or silent' },
  demo: { flag: 'demo', env: 'HERALD_DEMO', convert: 'boolean', help: 'serve the demo page at / (--no-demo to turn off)' },
  basePath: { flag: 'base-path', env: 'HERALD_BASE_PATH', convert: 'string', help: 'path prefix of every endpoint, such as /realtime' },
  historySize: { flag: 'history-size', env: 'HERALD_HISTORY_SIZE', convert: 'number', help: 'events kept for resume' },
  historyMaxAge: { flag: 'history-age', env: 'HERALD_HISTORY_AGE', convert: 'duration', help: 'age of the oldest event kept for resume' },
  heartbeatInterval: { flag: 'heartbeat', env: 'HERALD_HEARTBEAT', convert: 'duration', help: 'interval of heartbeat messages' },
  sseRetry: { flag: 'sse-retry', env: 'HERALD_SSE_RETRY', convert: 'duration', help: 'reconnect delay sent to EventSource clients' },
  maxEventBytes: { flag: 'max-event-size', env: 'HERALD_MAX_EVENT_SIZE', convert: 'size', help: 'largest serialized event data' },
  maxBodyBytes: { flag: 'max-body-size', env: 'HERALD_MAX_BODY_SIZE', convert: 'size', help: 'largest request body or WebSocket frame' },
  maxQueueBytes: {
    flag: 'max-queue-size',
    env: 'HERALD_MAX_QUEUE_SIZE',
    convert: 'size',
    help: 'outbound bytes a connection may have waiting before it is dropped',
  },
  maxTopicsPerConnection: { flag: 'max-topics', env: 'HERALD_MAX_TOPICS', convert: 'number', help: 'topics one connection may hold' },
  maxConnections: { flag: 'max-connections', env: 'HERALD_MAX_CONNECTIONS', convert: 'number', help: 'open connections the hub accepts' },
  shutdownTimeout: { flag: 'shutdown-timeout', env: 'HERALD_SHUTDOWN_TIMEOUT', convert: 'duration', help: 'how long shutdown waits for clients to leave' },
  shutdownJitter: {
    flag: 'shutdown-jitter',
    env: 'HERALD_SHUTDOWN_JITTER',
    convert: 'duration',
    help: 'window over which clients spread their reconnects after a shutdown',
  },
  redis: { flag: 'redis', env: 'REDIS_URL', convert: 'string', help: 'keep the log in Redis (redis://host:port/db) so several hub nodes share it' },
  redisPrefix: { flag: 'redis-prefix', env: 'HERALD_REDIS_PREFIX', convert: 'string', help: 'prefix of the keys the hub uses in Redis' },
  redisBridge: {
    flag: 'redis-bridge',
    env: 'HERALD_REDIS_BRIDGE',
    convert: 'bridges',
    help: 'republish a Redis pub/sub channel (glob allowed) into a topic: channel=topic; repeatable',
  },
  postgres: { flag: 'postgres', env: 'DATABASE_URL', convert: 'string', help: 'relay the Postgres outbox (herald pg outbox install) into the log' },
  pgListen: {
    flag: 'pg-listen',
    env: 'HERALD_PG_LISTEN',
    convert: 'bridges',
    help: 'relay an existing NOTIFY channel into a topic: channel=topic (lossy across disconnects); repeatable',
  },
  pgPollInterval: { flag: 'pg-poll-interval', env: 'HERALD_PG_POLL_INTERVAL', convert: 'duration', help: 'how often the outbox is read without a NOTIFY' },
  pgRetention: { flag: 'pg-retention', env: 'HERALD_PG_RETENTION', convert: 'duration', help: 'how long delivered outbox rows are kept' },
  jwtSecret: { flag: 'jwt-secret', env: 'HERALD_JWT_SECRET', convert: 'string', help: 'HS256 secret (32+ characters); turns authentication on', secret: true },
  jwtPublicKey: {
    flag: 'jwt-public-key',
    env: 'HERALD_JWT_PUBLIC_KEY',
    convert: 'pem-file',
    help: 'PEM file of an RSA, EC or Ed25519 public key; turns authentication on',
  },
  jwksUrl: { flag: 'jwks-url', env: 'HERALD_JWKS_URL', convert: 'string', help: 'JSON Web Key Set URL; turns authentication on' },
  jwtAlgorithms: { flag: 'jwt-algorithms', env: 'HERALD_JWT_ALGORITHMS', convert: 'list', help: 'allowed token algorithms', defaultText: 'fits the key' },
  jwtAudience: { flag: 'jwt-audience', env: 'HERALD_JWT_AUDIENCE', convert: 'string', help: 'required aud claim' },
  jwtIssuer: { flag: 'jwt-issuer', env: 'HERALD_JWT_ISSUER', convert: 'string', help: 'required iss claim' },
  jwtClockSkew: { flag: 'jwt-clock-skew', env: 'HERALD_JWT_CLOCK_SKEW', convert: 'duration', help: 'clock skew tolerated for exp and nbf' },
  tokenCookie: { flag: 'token-cookie', env: 'HERALD_TOKEN_COOKIE', convert: 'string', help: 'cookie read for a token' },
  publicTopics: { flag: 'public', env: 'HERALD_PUBLIC', convert: 'list', help: 'topic pattern anonymous clients may subscribe to; repeatable' },
  publishKeys: {
    flag: 'publish-key',
    env: 'HERALD_PUBLISH_KEYS',
    convert: 'list',
    help: 'API key allowed to publish (Authorization: Bearer); repeatable for rotation',
    secret: true,
  },
  authorizeUrl: { flag: 'authorize-url', env: 'HERALD_AUTHORIZE_URL', convert: 'string', help: 'URL asked {sub, claims, topics} before each subscription' },
  authorizeTimeout: {
    flag: 'authorize-timeout',
    env: 'HERALD_AUTHORIZE_TIMEOUT',
    convert: 'duration',
    help: 'how long the authorize URL may take (then refused)',
  },
  authorizeCacheTtl: { flag: 'authorize-cache-ttl', env: 'HERALD_AUTHORIZE_CACHE_TTL', convert: 'duration', help: 'how long authorize answers are reused' },
  exposeClaims: { flag: 'expose-claims', env: 'HERALD_EXPOSE_CLAIMS', convert: 'list', help: 'token claim connected names besides sub; repeatable' },
  reauthorizeInterval: {
    flag: 'reauthorize-interval',
    env: 'HERALD_REAUTHORIZE_INTERVAL',
    convert: 'duration',
    help: 'how often live subscriptions are checked again against the authorize hook; 0 for never',
    defaultText: '0 (off)',
  },
  allowedOrigins: {
    flag: 'allowed-origins',
    env: 'HERALD_ALLOWED_ORIGINS',
    convert: 'list',
    help: 'browser origins allowed (WebSocket Origin check, CORS); * for any without credentials',
  },
  maxConnectionsPerIp: {
    flag: 'max-connections-per-ip',
    env: 'HERALD_MAX_CONNECTIONS_PER_IP',
    convert: 'number',
    help: 'connections one address may hold',
    defaultText: '0 (no limit)',
  },
  publishRate: { flag: 'publish-rate', env: 'HERALD_PUBLISH_RATE', convert: 'number', help: 'events per second per publisher', defaultText: '0 (no limit)' },
  publishBurst: {
    flag: 'publish-burst',
    env: 'HERALD_PUBLISH_BURST',
    convert: 'number',
    help: 'events a publisher may send at once',
    defaultText: 'twice the rate',
  },
  wsMessageRate: { flag: 'ws-message-rate', env: 'HERALD_WS_MESSAGE_RATE', convert: 'number', help: 'messages per second a WebSocket client may send' },
  trustProxy: { flag: 'trust-proxy', env: 'HERALD_TRUST_PROXY', convert: 'boolean', help: 'take the client address from X-Forwarded-For' },
  headersTimeout: { flag: 'headers-timeout', env: 'HERALD_HEADERS_TIMEOUT', convert: 'duration', help: 'time a client has to send its request headers' },
  requestTimeout: { flag: 'request-timeout', env: 'HERALD_REQUEST_TIMEOUT', convert: 'duration', help: 'time a client has to send a whole request' },
} satisfies { readonly [K in keyof ServeConfig]-?: SettingRow };

/** The settings table: one row per setting, in the order of `--help` and of the README table. */
export const SETTINGS: readonly Setting[] = (Object.keys(ROWS) as Array<keyof ServeConfig>).map((key) => ({ key, ...(ROWS[key] as SettingRow) }));

/** Defaults of `herald serve`: the hub's, with the demo page on, plus the serve options'. */
export const SERVE_DEFAULTS: ServeConfig = { ...HUB_DEFAULTS, demo: true, ...SERVE_OPTION_DEFAULTS };

/** A setting's default as the README and `--help` write it, such as "25s" or "(none)". */
export function defaultText(setting: Setting): string {
  return setting.defaultText ?? formatValue(setting.convert, SERVE_DEFAULTS[setting.key]);
}
