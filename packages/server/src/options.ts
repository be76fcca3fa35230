import type { Logger } from 'pino';
import { isTopicPattern } from '@herald/protocol';
import { z } from 'zod';
import type { AuthorizeFunction } from './auth/authorize-hook.js';
import type { Broker } from './broker/broker.js';

/** Options of {@link createHub}. Every duration is in milliseconds, every size in bytes. */
export interface HubOptions {
  /** The event log. Default: a MemoryBroker using `historySize` and `historyMaxAge`. */
  broker?: Broker;
  /** Events kept for resume by the default memory broker. Default 10,000. */
  historySize?: number;
  /** Age of the oldest event kept for resume by the default memory broker. Default 1 hour. */
  historyMaxAge?: number;
  /** Interval of `heartbeat` messages (and WebSocket pings). Default 25 s. */
  heartbeatInterval?: number;
  /** Reconnect delay announced to EventSource clients in the `retry:` field. Default 3 s. */
  sseRetry?: number;
  /** Largest serialized `data` of one event. Default 64 KiB. */
  maxEventBytes?: number;
  /** Largest request body (POST /publish, batches) and WebSocket frame. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Outbound bytes a connection may have waiting before it is dropped as a slow consumer. Default 1 MiB. */
  maxQueueBytes?: number;
  /** Topics one connection may hold. Default 100. */
  maxTopicsPerConnection?: number;
  /** Open SSE and WebSocket connections the hub accepts. Default 100,000. */
  maxConnections?: number;
  /** How long `close()` waits for clients to leave before cutting them off. Default 10 s. */
  shutdownTimeout?: number;
  /** Clients told to reconnect at shutdown spread their reconnects over this window. Default 5 s. */
  shutdownJitter?: number;
  /** Path prefix of every endpoint, such as `/realtime`. Default none. */
  basePath?: string;
  /** Serve the demo page at `<basePath>/`. Default false (the `herald serve` command turns it on). */
  demo?: boolean;
  /** A pino logger, or false for none. Default: pino at level info on stdout. */
  logger?: Logger | false;

  /** HMAC secret for HS256 tokens (at least 32 characters). Turns authentication on. */
  jwtSecret?: string;
  /** PEM text of an RSA, EC or Ed25519 public key for RS256/ES256/EdDSA tokens. Turns authentication on. */
  jwtPublicKey?: string;
  /** URL of a JSON Web Key Set (cached; fetched again for an unknown `kid`). Turns authentication on. */
  jwksUrl?: string;
  /** Allowed token algorithms. Default: HS256 for a secret, the key's own for a PEM, RS256/ES256/EdDSA for JWKS. */
  jwtAlgorithms?: readonly string[];
  /** Required `aud` claim. */
  jwtAudience?: string;
  /** Required `iss` claim. */
  jwtIssuer?: string;
  /** Clock skew tolerated for `exp` and `nbf`, at connect and at expiry. Default 5 s. */
  jwtClockSkew?: number;
  /** Name of the cookie read for a token when there is no header or query token. Default `herald_token`. */
  tokenCookie?: string;
  /** Patterns anonymous clients may subscribe to (needs a JWT key). Default none. */
  publicTopics?: readonly string[];
  /** API keys that may publish to any topic, sent as `Authorization: Bearer <key>`; several allow rotation. */
  publishKeys?: readonly string[];
  /** In-process subscribe authorization hook; answers are cached for `authorizeCacheTtl`. */
  authorize?: AuthorizeFunction;
  /** URL the hub POSTs `{sub, claims, topics}` to before allowing a subscription; 200 `{"allow":true}` allows. */
  authorizeUrl?: string;
  /** How long the authorization hook may take before the subscription is refused. Default 2 s. */
  authorizeTimeout?: number;
  /** How long authorization answers are reused. Default 5 s. */
  authorizeCacheTtl?: number;
  /**
   * Token claims `connected` names besides `sub` (in `principal.claims`), such as
   * `["role", "cadet_id"]`, so a page can tell who it is connected as. Default none.
   */
  exposeClaims?: readonly string[];
  /**
   * How often live subscriptions of token connections are checked again against
   * the authorization hook; a subscription it refuses now ends with
   * `unsubscribed` (reason `forbidden`). 0 turns the re-check off. Default 0
   * (off): each re-check is one hook request per connection.
   */
  reauthorizeInterval?: number;
  /** Browser origins allowed to connect (WebSocket Origin check) and to use CORS (`*` for any, without credentials). Default none. */
  allowedOrigins?: readonly string[];
  /** Open connections one address may hold; 0 for no limit. Default 0. */
  maxConnectionsPerIp?: number;
  /** Events per second one publisher (key, token subject or address) may publish; 0 for no limit. Default 0. */
  publishRate?: number;
  /** Events a publisher may publish at once above `publishRate`. Default twice the rate. */
  publishBurst?: number;
  /** Messages per second one WebSocket client may send before it is closed with 4029. Default 100. */
  wsMessageRate?: number;
  /** Read the client address from X-Forwarded-For (behind a trusted proxy). Default false. */
  trustProxy?: boolean;
  /** Time a client has to send its request headers (slow-loris guard), for servers the hub creates. Default 10 s. */
  headersTimeout?: number;
  /** Time a client has to send a whole request, for servers the hub creates. Default 30 s. */
  requestTimeout?: number;
}

type Defaulted = keyof typeof HUB_DEFAULTS;

/** Options with every default filled in. */
export type ResolvedHubOptions = Required<Pick<HubOptions, Defaulted>> & Omit<HubOptions, Defaulted>;

export const HUB_DEFAULTS = {
  historySize: 10_000,
  historyMaxAge: 60 * 60 * 1000,
  heartbeatInterval: 25_000,
  sseRetry: 3_000,
  maxEventBytes: 64 * 1024,
  maxBodyBytes: 1024 * 1024,
  maxQueueBytes: 1024 * 1024,
  maxTopicsPerConnection: 100,
  maxConnections: 100_000,
  shutdownTimeout: 10_000,
  shutdownJitter: 5_000,
  basePath: '',
  demo: false,
  jwtClockSkew: 5_000,
  tokenCookie: 'herald_token',
  publicTopics: [] as readonly string[],
  publishKeys: [] as readonly string[],
  authorizeTimeout: 2_000,
  authorizeCacheTtl: 5_000,
  exposeClaims: [] as readonly string[],
  reauthorizeInterval: 0,
  allowedOrigins: [] as readonly string[],
  maxConnectionsPerIp: 0,
  publishRate: 0,
  publishBurst: 0,
  wsMessageRate: 100,
  trustProxy: false,
  headersTimeout: 10_000,
  requestTimeout: 30_000,
} as const satisfies Partial<HubOptions>;

/** A zod rule for a positive integer in `unit`, with the message every option of that kind uses. */
const positiveInt = (unit: string) =>
  z
    .number({ error: `expected a positive integer (${unit})` })
    .int(`expected a positive integer (${unit})`)
    .positive(`expected a positive integer (${unit})`);
/** A zod rule for an integer >= 0 in `unit`. */
export const nonNegativeInt = (unit: string) =>
  z
    .number({ error: `expected an integer >= 0 (${unit})` })
    .int(`expected an integer >= 0 (${unit})`)
    .nonnegative(`expected an integer >= 0 (${unit})`);
// A claim value the hub compares with a token's: a control character there is a typo or a pasted newline, never a real aud or iss.
const claimText = z
  .string({ error: 'expected a string' })
  .min(1, 'expected a non-empty string')
  .regex(/^[^\0-\x1f\x7f]*$/, 'expected a string without control characters');

/**
 * The one validator of every option: `createHub` and the `herald serve` command both check values with it
 * (the command first converts "25s" and "64KiB" into numbers). Not part of the package's exports.
 */
export const hubOptionsSchema = z
  .object({
    broker: z.custom<Broker>(
      (value) => typeof value === 'object' && value !== null && typeof (value as Broker).append === 'function',
      'expected a Broker (an object with start, append, head, read, isReady and close)',
    ),
    historySize: positiveInt('events'),
    historyMaxAge: positiveInt('milliseconds'),
    heartbeatInterval: positiveInt('milliseconds').min(100, 'expected at least 100 milliseconds'),
    sseRetry: nonNegativeInt('milliseconds'),
    maxEventBytes: positiveInt('bytes'),
    maxBodyBytes: positiveInt('bytes'),
    maxQueueBytes: positiveInt('bytes').min(1024, 'expected at least 1024 bytes'),
    maxTopicsPerConnection: positiveInt('topics'),
    maxConnections: positiveInt('connections'),
    shutdownTimeout: nonNegativeInt('milliseconds'),
    shutdownJitter: nonNegativeInt('milliseconds'),
    basePath: z.string({ error: 'expected a string' }).regex(/^(\/[A-Za-z0-9\-_.~]+)*$/, 'expected "" or a path such as "/realtime" (no trailing slash)'),
    demo: z.boolean({ error: 'expected true or false' }),
    logger: z.union([z.literal(false), z.custom<Logger>((v) => typeof v === 'object' && v !== null && typeof (v as Logger).info === 'function')], {
      error: 'expected a pino logger or false',
    }),
    jwtSecret: z.string({ error: 'expected a string' }).min(32, 'expected at least 32 characters (HS256 needs 256 bits)'),
    jwtPublicKey: z
      .string({ error: 'expected PEM text' })
      .regex(/-----BEGIN PUBLIC KEY-----/, 'expected PEM text of a public key (-----BEGIN PUBLIC KEY-----)'),
    // z.url alone accepts file: and data: URLs; keys and answers are only ever fetched over HTTP.
    jwksUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
    jwtAlgorithms: z.array(z.enum(['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']), {
      error: 'expected a list of JWS algorithms such as ["RS256"] ("none" is never allowed)',
    }),
    jwtAudience: claimText,
    jwtIssuer: claimText,
    jwtClockSkew: nonNegativeInt('milliseconds'),
    tokenCookie: z.string({ error: 'expected a cookie name' }).regex(/^[A-Za-z0-9_\-.]+$/, 'expected a cookie name of letters, digits and _-.'),
    publicTopics: z.array(z.string().refine(isTopicPattern, 'expected topic patterns'), { error: 'expected a list of topic patterns' }),
    publishKeys: z.array(z.string().min(16, 'expected keys of at least 16 characters'), { error: 'expected a list of keys' }),
    authorize: z.custom<AuthorizeFunction>((v) => typeof v === 'function', 'expected a function ({sub, claims, topics}) => boolean'),
    authorizeUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
    authorizeTimeout: positiveInt('milliseconds'),
    authorizeCacheTtl: nonNegativeInt('milliseconds'),
    exposeClaims: z.array(z.string().regex(/^[A-Za-z0-9_\-.:]+$/, 'expected claim names'), { error: 'expected a list of claim names' }),
    reauthorizeInterval: nonNegativeInt('milliseconds'),
    allowedOrigins: z.array(z.string().regex(/^(\*|https?:\/\/[^/\s]+)$/, 'expected origins such as https://app.example.com, or *'), {
      error: 'expected a list of origins',
    }),
    maxConnectionsPerIp: nonNegativeInt('connections'),
    publishRate: nonNegativeInt('events per second'),
    publishBurst: nonNegativeInt('events'),
    wsMessageRate: positiveInt('messages per second'),
    trustProxy: z.boolean({ error: 'expected true or false' }),
    headersTimeout: positiveInt('milliseconds'),
    requestTimeout: positiveInt('milliseconds'),
  })
  .partial()
  .strict();

/** A rejected option set; `issues` names each bad option, for callers that map options to their own names. */
export class HubOptionsError extends TypeError {
  readonly issues: ReadonlyArray<{ option: string; problem: string }>;

  constructor(issues: ReadonlyArray<{ option: string; problem: string }>) {
    super(`herald: ${issues.map((i) => (i.option === '' ? i.problem : `invalid option ${i.option}: ${i.problem}`)).join('; ')}`);
    this.name = 'HubOptionsError';
    this.issues = issues;
  }
}

/**
 * Validates options given to createHub and fills in defaults. Throws a TypeError
 * naming every bad setting, such as `herald: invalid option heartbeatInterval: expected a positive integer (milliseconds), got -5`.
 */
export function resolveHubOptions(input: unknown): ResolvedHubOptions {
  if (input === undefined) input = {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new HubOptionsError([{ option: '', problem: `options must be an object, got ${describe(input)}` }]);
  }
  const result = hubOptionsSchema.safeParse(input);
  if (!result.success) {
    throw new HubOptionsError(
      result.error.issues.map((issue) => {
        if (issue.code === 'unrecognized_keys') return { option: '', problem: `unknown option ${issue.keys.join(', ')}` };
        const option = issue.path.join('.');
        return { option, problem: `${issue.message}, got ${describe((input as Record<string, unknown>)[option])}` };
      }),
    );
  }
  const defined = Object.fromEntries(Object.entries(result.data).filter(([, v]) => v !== undefined));
  const resolved = { ...HUB_DEFAULTS, ...defined } as ResolvedHubOptions;
  const keySources = [resolved.jwtSecret, resolved.jwtPublicKey, resolved.jwksUrl].filter((v) => v !== undefined);
  if (keySources.length > 1) {
    throw new HubOptionsError([{ option: 'jwtSecret', problem: 'set only one of jwtSecret, jwtPublicKey and jwksUrl' }]);
  }
  return resolved;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : String(value);
}
