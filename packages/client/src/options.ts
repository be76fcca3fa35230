import { BACKOFF_DEFAULTS, type BackoffOptions, type ResolvedBackoff } from './backoff.js';
import { systemClock, type Clock } from './clock.js';
import { sseTransport } from './sse-transport.js';
import type { TransportFactory } from './transport.js';
import { webSocketTransport, type WebSocketConstructor } from './ws-transport.js';

/** Which transport the client uses. */
export type TransportMode = 'auto' | 'websocket' | 'sse';

/** Options of {@link createClient}. Durations are in milliseconds. */
export interface ClientOptions {
  /**
   * The hub's base URL, with its basePath: `https://hub.example.com`,
   * `http://127.0.0.1:8080/realtime`, or in a browser a path such as `/realtime`
   * (resolved against the page). Required.
   */
  url: string;
  /** A fixed bearer token. Use `getToken` instead when tokens expire. */
  token?: string;
  /**
   * Returns a fresh token; called before every connection attempt, so a reconnect
   * never uses a stale one (and again after the hub says `token_expired`).
   */
  getToken?: () => string | Promise<string>;
  /**
   * `auto` (default): WebSocket, falling back to SSE when WebSocket cannot connect
   * (a proxy that blocks upgrades), and trying WebSocket again after
   * `websocketRetryDelay`. `websocket` or `sse` use only that transport.
   */
  transport?: TransportMode;
  /**
   * Reconnect backoff. Default `{ initial: 1000, factor: 2, cap: 30000, jitter: 'full' }`:
   * 1 s doubling to a 30 s cap, each delay random below its ceiling.
   */
  backoff?: BackoffOptions;
  /**
   * Retries after the first failure before the state becomes `failed`. The first
   * failure is a failed first attempt or the loss of a working connection; each
   * retry that fails too counts one more. `0` gives up at the first failure;
   * `5` with `backoff: { jitter: 'none', cap: 16000 }` retries after 1, 2, 4, 8
   * and 16 s, then fails. Connecting resets the count. Default: unlimited.
   */
  maxAttempts?: number;
  /** An attempt that has not received `connected` after this long has failed. Default 10 s. */
  connectTimeout?: number;
  /** In `auto` mode, how long to stay on SSE after WebSocket failed before trying WebSocket again. Default 5 minutes. */
  websocketRetryDelay?: number;
  /** How many recent event ids are remembered to drop duplicates. Default 1000. */
  dedupeWindow?: number;
  /** WebSocket class. Default `globalThis.WebSocket` (Node 20 has none: pass the `ws` package's, or use SSE). */
  WebSocket?: WebSocketConstructor;
  /** fetch function for SSE and publish. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Clock for every timer. Default: the real one. For tests. */
  clock?: Clock;
  /** Random numbers in [0, 1) for backoff jitter. Default `Math.random`. For tests. */
  random?: () => number;
  /**
   * Subscribes to "the network is back" notifications and returns an unsubscribe
   * function. Default: the browser's `online` event (nothing in Node).
   */
  onOnline?: (listener: () => void) => () => void;
  /** Replaces the built-in transports, for tests of the state machine. */
  transports?: { websocket?: TransportFactory; sse?: TransportFactory };
}

/** Options after validation, with defaults filled in. */
export interface ResolvedOptions {
  url: string;
  getToken: () => string | undefined | Promise<string | undefined>;
  mode: TransportMode;
  backoff: ResolvedBackoff;
  maxAttempts: number;
  connectTimeout: number;
  websocketRetryDelay: number;
  dedupeWindow: number;
  websocket: TransportFactory | undefined;
  sse: TransportFactory;
  fetch: typeof fetch;
  clock: Clock;
  random: () => number;
  onOnline: (listener: () => void) => () => void;
  /** True when tokens can be refreshed, so a `token_expired` refusal is worth retrying. */
  refreshable: boolean;
}

function fail(option: string, expected: string, value: unknown): never {
  throw new TypeError(`herald client: option ${option} must be ${expected}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
}

function duration(option: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= min)) fail(option, `a number >= ${min}`, value);
  return value;
}

function defaultOnline(listener: () => void): () => void {
  const target = globalThis as { addEventListener?: (n: string, l: () => void) => void; removeEventListener?: (n: string, l: () => void) => void };
  if (typeof target.addEventListener !== 'function') return () => undefined;
  target.addEventListener('online', listener);
  return () => target.removeEventListener?.('online', listener);
}

/** Validates options and fills in defaults; throws a TypeError naming the bad option. */
export function resolveOptions(options: ClientOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) fail('options', 'an object such as { url }', options);
  const base = (globalThis as { location?: { href: string } }).location?.href;
  let url: URL | undefined;
  try {
    url = new URL(options.url, base);
  } catch {
    // Refused below, with the same message as another scheme.
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') fail('url', 'an absolute http(s) URL (or a path, in a browser)', options.url);
  const mode = options.transport ?? 'auto';
  if (mode !== 'auto' && mode !== 'websocket' && mode !== 'sse') fail('transport', '"auto", "websocket" or "sse"', mode);
  const { token, getToken } = options;
  if (token !== undefined && getToken !== undefined) fail('token', 'left out when getToken is given', '(both given)');
  if (getToken !== undefined && typeof getToken !== 'function') fail('getToken', 'a function', getToken);
  const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  const websocket = options.transports?.websocket ?? (WebSocketImpl === undefined ? undefined : webSocketTransport(WebSocketImpl));
  if (mode === 'websocket' && websocket === undefined) fail('WebSocket', 'given when transport is "websocket" and globalThis.WebSocket is missing', undefined);
  // Looked up at call time: an environment without fetch can still use WebSocket.
  const fetchImpl: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const backoff = options.backoff ?? {};
  const jitter = backoff.jitter ?? 'full';
  if (jitter !== 'full' && jitter !== 'none') fail('backoff.jitter', '"full" or "none"', jitter);
  return {
    url: url.origin + url.pathname.replace(/\/+$/, ''),
    getToken: getToken ?? (() => token),
    mode: websocket === undefined ? 'sse' : mode,
    backoff: {
      initial: duration('backoff.initial', backoff.initial, BACKOFF_DEFAULTS.initial),
      factor: duration('backoff.factor', backoff.factor, BACKOFF_DEFAULTS.factor, 1),
      cap: duration('backoff.cap', backoff.cap, BACKOFF_DEFAULTS.cap),
      jitter,
    },
    maxAttempts: duration('maxAttempts', options.maxAttempts, Infinity),
    connectTimeout: duration('connectTimeout', options.connectTimeout, 10_000, 1),
    websocketRetryDelay: duration('websocketRetryDelay', options.websocketRetryDelay, 300_000),
    dedupeWindow: duration('dedupeWindow', options.dedupeWindow, 1000, 1),
    websocket,
    sse: options.transports?.sse ?? sseTransport(fetchImpl),
    fetch: fetchImpl,
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    onOnline: options.onOnline ?? defaultOnline,
    refreshable: getToken !== undefined,
  };
}
