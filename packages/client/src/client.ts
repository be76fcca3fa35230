import { assertTopicPattern, HeraldError, isEnvelope, isErrorCode } from '@herald/protocol';
import { backoffDelay } from './backoff.js';
import { Emitter } from './emitter.js';
import { resolveOptions, type ClientOptions, type ResolvedOptions } from './options.js';
import { publishOverHttp, type PublishOptions } from './publish.js';
import { RecentIds } from './recent-ids.js';
import { Subscriptions, type Subscription } from './subscriptions.js';
import { refreshDelay, tokenExpiry } from './token-expiry.js';
import type { Transport, TransportEnd } from './transport.js';
import type { ClientEvents, ConnectionState, DeliveryState, HeraldEvent, ResetNotice, SubscribeOptions } from './types.js';

type Kind = 'websocket' | 'sse';

/** What ended a connection: the transport's account plus the hub's goodbye, if it sent one. */
interface Loss extends TransportEnd {
  goodbye?: { code: string; retryAfter?: number };
}

// HTTP statuses of refusals that no retry can fix (bad request, forbidden, wrong URL or method).
const FATAL_STATUSES = new Set([400, 403, 404, 405, 426]);

// Refusals of a `subscribe` that a later attempt can overcome (protocol.md, errors.md).
const TRANSIENT_CODES = new Set(['broker_unavailable', 'authorization_unavailable']);

// Close codes whose meaning matters when the `error` message before them was lost.
const CLOSE_CODES: Record<number, string> = { 4001: 'token_expired', 1012: 'shutting_down', 4009: 'slow_consumer' };

// Grace added to twice the heartbeat interval before a silent connection counts as dead:
// timers fire late under load, and a heartbeat may be queued behind a large replay.
const LIVENESS_GRACE_MS = 250;

/**
 * A Herald client: one connection to a hub (WebSocket or SSE), any number of
 * subscriptions, and an explicit state machine (see {@link ConnectionState}).
 *
 * Every way a connection can end (socket closed, stream ended, refusal, silence,
 * timeout, `reconnect()`) goes through one funnel, `#lost`, which decides what
 * happens next. Each connection attempt gets a generation number; callbacks of an
 * older generation are ignored, so a late message from a replaced socket can never
 * deliver an event twice or change the state.
 */
export class HeraldClient {
  readonly #options: ResolvedOptions;
  readonly #emitter = new Emitter<ClientEvents>();
  readonly #subscriptions = new Subscriptions();
  readonly #seen: RecentIds;
  #state: ConnectionState = 'idle';
  #delivery: DeliveryState = 'live';
  #generation = 0;
  #transport: Transport | undefined;
  #kind: Kind | undefined;
  /** Generation that received `connected`. */
  #connectedGeneration = -1;
  #goodbye: Loss['goodbye'];
  #lastEventId: string | undefined;
  /** The current SSE attempt asked to resume (a `since`), so a `reset` may follow `connected`. */
  #resumeAsked = false;
  /** Failed connection attempts in a row. */
  #failures = 0;
  /** auto mode: WebSocket could not connect, so SSE is used until `#switchTimer` tries WebSocket again. */
  #sseFallback = false;
  #retryTimer: unknown;
  #connectTimer: unknown;
  #livenessTimer: unknown;
  #switchTimer: unknown;
  #refreshTimer: unknown;
  /** The token the current connection was opened (or last refreshed) with. */
  #token: string | undefined;
  /** WebSocket `refresh` requests in flight: ref to the token sent. */
  readonly #refreshes = new Map<number, string>();
  #livenessTimeout = 0;
  #lastMessageAt = 0;
  /** SSE: the topics of the current stream. WebSocket: patterns subscribed on the current connection. */
  #held = new Set<string>();
  #nextRef = 1;
  readonly #requests = new Map<number, Subscription[]>();
  #syncQueued = false;
  readonly #stopOnline: () => void;

  constructor(options: ClientOptions) {
    this.#options = resolveOptions(options);
    this.#seen = new RecentIds(this.#options.dedupeWindow);
    this.#stopOnline = this.#options.onOnline(() => this.#online());
  }

  /** The current connection state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** `paused` while the hub says its event log is unavailable (see the `delivery` event), else `live`. */
  get delivery(): DeliveryState {
    return this.#delivery;
  }

  /**
   * Where the next connection resumes from: the id of the last event received or,
   * before any, the position the hub named in `connected` (`lastEventId`).
   */
  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  /** The transport of the current connection (or attempt), if any. */
  get transport(): Kind | undefined {
    return this.#kind;
  }

  /** Listens to `state` changes, `delivery` changes or `error`s; returns the function that stops listening. */
  on<Name extends keyof ClientEvents>(name: Name, listener: ClientEvents[Name]): () => void {
    return this.#emitter.on(name, listener);
  }

  /**
   * Subscribes to one topic pattern or several, and connects if needed. Returns the
   * function that unsubscribes (idempotent). Patterns are validated now: a bad one
   * throws `invalid_topic`. Changes made in one tick are sent together, so a React
   * StrictMode mount, unmount and mount costs nothing on the wire.
   */
  subscribe<Data = unknown>(topics: string | readonly string[], options: SubscribeOptions<Data>): () => void {
    if (this.#state === 'closed') throw new Error('herald client: subscribe() after close()');
    const patterns = [...new Set(typeof topics === 'string' ? [topics] : topics)];
    if (patterns.length === 0) throw new HeraldError('invalid_topic', 'subscribe() needs at least one topic');
    for (const pattern of patterns) assertTopicPattern(pattern);
    if (typeof options?.onEvent !== 'function') throw new TypeError('herald client: subscribe() needs an onEvent function');
    const subscription: Subscription = { patterns, options, confirmed: false };
    this.#subscriptions.add(subscription);
    this.#queueSync();
    return () => {
      if (this.#subscriptions.remove(subscription)) this.#queueSync();
    };
  }

  /** Publishes one event with `POST <url>/publish`; resolves with its id. */
  async publish(topic: string, data: unknown, options: PublishOptions = {}): Promise<string> {
    return publishOverHttp(this.#options, await this.#options.getToken(), topic, data, options);
  }

  /** Drops the current connection (if any) and connects again now, resetting the backoff. */
  reconnect(): void {
    if (this.#state === 'closed') return;
    this.#failures = 0;
    this.#sseFallback = false;
    this.#abandon();
    this.#start('connecting');
  }

  /** Closes the connection and stops every timer for good. The state becomes `closed`. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#abandon();
    this.#options.clock.clearTimeout(this.#switchTimer);
    this.#stopOnline();
    this.#setState('closed');
  }

  // ---- connecting -------------------------------------------------------------

  #setState(state: ConnectionState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.#emitter.emit('state', state, previous);
  }

  #setDelivery(delivery: DeliveryState): void {
    if (this.#delivery === delivery) return;
    this.#delivery = delivery;
    this.#emitter.emit('delivery', delivery);
  }

  /** Ends the current attempt or connection without reporting it: its callbacks are fenced off. */
  #abandon(): void {
    const clock = this.#options.clock;
    this.#generation++;
    this.#transport?.close();
    this.#transport = undefined;
    this.#kind = undefined;
    this.#goodbye = undefined;
    this.#held = new Set();
    this.#requests.clear();
    clock.clearTimeout(this.#retryTimer);
    clock.clearTimeout(this.#connectTimer);
    clock.clearTimeout(this.#livenessTimer);
    clock.clearTimeout(this.#refreshTimer);
    this.#refreshes.clear();
    this.#retryTimer = this.#connectTimer = this.#livenessTimer = this.#refreshTimer = undefined;
  }

  /** Nothing to connect for: SSE needs at least one topic, and the client connects lazily. */
  #idle(): boolean {
    return this.#subscriptions.size === 0;
  }

  #start(state: ConnectionState): void {
    if (this.#idle()) {
      this.#setState('idle');
      return;
    }
    this.#setState(state);
    this.#attempt();
  }

  #attempt(): void {
    const generation = ++this.#generation;
    const options = this.#options;
    const kind: Kind = options.mode === 'sse' || (options.mode === 'auto' && this.#sseFallback) ? 'sse' : 'websocket';
    this.#kind = kind;
    this.#connectTimer = options.clock.setTimeout(() => this.#lost(generation, { opened: false, reason: 'connect timeout' }), options.connectTimeout);
    Promise.resolve()
      .then(() => options.getToken())
      .then(
        (token) => {
          if (generation !== this.#generation) return;
          const topics = kind === 'sse' ? this.#subscriptions.patterns() : [];
          // One resume position per SSE stream: the last event id, else the first `since` given.
          const since = kind === 'sse' ? this.#lastEventId ?? this.#subscriptions.list().find((s) => s.options.since !== undefined)?.options.since : undefined;
          if (kind === 'sse') this.#subscriptions.markUnresumable(() => since);
          this.#resumeAsked = since !== undefined;
          this.#held = new Set(topics);
          this.#token = token ?? undefined;
          const factory = kind === 'sse' ? options.sse : options.websocket!;
          this.#transport = factory(
            { url: options.url, token: token ?? undefined, topics, since },
            {
              onMessage: (message) => this.#message(generation, message),
              onEnd: (end) => this.#lost(generation, end),
            },
          );
        },
        (error: unknown) => this.#lost(generation, { opened: false, reason: `getToken failed: ${String(error)}` }),
      );
  }

  /**
   * The one place a connection or attempt ends. Decides between: falling back
   * to SSE now, retrying at once with a fresh token, waiting the hub's
   * `retryAfter`, backing off, or giving up.
   */
  #lost(generation: number, end: Loss): void {
    if (generation !== this.#generation) return;
    const wasConnected = this.#connectedGeneration === generation;
    const goodbye = this.#goodbye;
    const kind = this.#kind;
    this.#abandon();
    if (this.#state === 'closed') return;
    const code = goodbye?.code ?? end.code ?? CLOSE_CODES[end.closeCode ?? 0];
    const options = this.#options;
    if (this.#idle()) return this.#setState('idle');
    if (!wasConnected && kind === 'websocket' && options.mode === 'auto') {
      // WebSocket never got through (perhaps a proxy refuses upgrades): try SSE at once.
      this.#sseFallback = true;
      this.#attempt();
      return;
    }
    // Both transports failed: the hub itself is unreachable, so start again from WebSocket.
    if (!wasConnected && kind === 'sse' && options.mode === 'auto') this.#sseFallback = false;
    const fatal = this.#fatal(end, code);
    if (fatal !== undefined) return this.#fail(fatal);
    let delay: number;
    if (wasConnected && code === 'token_expired') {
      // The connection was fine until the token ran out: get a fresh one now and resume.
      delay = 0;
    } else if (code === 'shutting_down' && goodbye?.retryAfter !== undefined) {
      // The hub spreads its clients' returns over a window; coming back earlier defeats it.
      delay = goodbye.retryAfter;
    } else {
      if (!wasConnected && ++this.#failures >= options.maxAttempts) {
        return this.#fail(new HeraldError(isErrorCode(code) ? code : 'internal_error', `gave up after ${this.#failures} failed attempts: ${end.reason}`));
      }
      delay = backoffDelay(Math.max(0, this.#failures - 1), options.backoff, options.random);
    }
    this.#setState('reconnecting');
    this.#retryTimer = options.clock.setTimeout(() => {
      this.#retryTimer = undefined;
      this.#attempt();
    }, delay);
  }

  /** The error to give up with, when no retry can succeed. */
  #fatal(end: Loss, code: string | undefined): HeraldError | undefined {
    const unauthorized = end.status === 401 || end.closeCode === 4001 || code === 'unauthorized' || code === 'token_expired';
    if (unauthorized && !this.#options.refreshable) {
      return new HeraldError(isErrorCode(code) ? code : 'unauthorized', 'the hub refused the token and there is no getToken to fetch another');
    }
    if (end.status !== undefined && FATAL_STATUSES.has(end.status)) {
      return new HeraldError(isErrorCode(code) ? code : 'invalid_request', `the hub refused the connection: ${end.reason}`);
    }
    return undefined;
  }

  #fail(error: HeraldError): void {
    this.#setState('failed');
    this.#emitter.emit('error', error);
  }

  #online(): void {
    // Only a client waiting to retry (or one that gave up) benefits; an attempt in flight continues.
    if (this.#state !== 'reconnecting' && this.#state !== 'failed') return;
    if (this.#state === 'reconnecting' && this.#retryTimer === undefined) return;
    this.#failures = 0;
    this.#abandon();
    this.#start('reconnecting');
  }

  // ---- messages ---------------------------------------------------------------

  #message(generation: number, message: Record<string, unknown>): void {
    if (generation !== this.#generation) return;
    this.#lastMessageAt = this.#options.clock.now();
    if (isEnvelope(message)) return this.#event(message as HeraldEvent);
    switch (message['type']) {
      case 'connected':
        this.#adoptPosition(message);
        return this.#connected(generation, Number(message['heartbeat']));
      case 'subscribed':
        return this.#subscribed(message['ref']);
      case 'unsubscribed':
        return this.#unsubscribed(message);
      case 'refreshed':
        return this.#refreshed(generation, message['ref']);
      case 'reset':
        return this.#subscriptions.reset({ topic: String(message['topic']), reason: message['reason'] as ResetNotice['reason'] });
      case 'error':
        return this.#error(message);
      case 'paused':
        return this.#setDelivery('paused');
      case 'resumed':
        return this.#setDelivery('live');
    }
  }

  #event(event: HeraldEvent): void {
    // A resume can replay what a previous connection already delivered.
    if (!this.#seen.add(event.id)) return;
    this.#lastEventId = event.id;
    this.#subscriptions.dispatch(event);
  }

  /**
   * Takes the hub's `connected.lastEventId` as the resume position while the client
   * has none, so a drop before the first event resumes instead of losing what was
   * published meanwhile. Only then: over WebSocket `connected` comes before the
   * subscribes, so it must never replace a position the client already holds. And
   * not when a `reset` may follow (an SSE resume that failed): a drop before the
   * reset arrived would then resume past events the reset was to report.
   */
  #adoptPosition(message: Record<string, unknown>): void {
    const position = message['lastEventId'];
    if (this.#lastEventId !== undefined || typeof position !== 'string' || position === '') return;
    if (this.#resumeAsked && message['resumed'] !== true) return;
    this.#lastEventId = position;
  }

  #connected(generation: number, heartbeat: number): void {
    const options = this.#options;
    options.clock.clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    this.#connectedGeneration = generation;
    this.#failures = 0;
    if (heartbeat > 0) {
      this.#livenessTimeout = 2 * heartbeat + LIVENESS_GRACE_MS;
      this.#armLiveness(generation, this.#livenessTimeout);
    }
    // A new connection delivers unless its hub says otherwise (`paused` follows `connected`).
    this.#setDelivery('live');
    this.#setState('connected');
    if (this.#kind === 'websocket') this.#scheduleRefresh(generation, undefined);
    if (this.#kind === 'sse') {
      const held = this.#held;
      this.#subscriptions.confirm(this.#subscriptions.list().filter((s) => s.patterns.every((p) => held.has(p))));
      if (this.#sseFallback) this.#scheduleWebSocketRetry(generation);
    }
    this.#sync(true);
  }

  /**
   * Liveness: the hub sends something (at least a heartbeat) every interval. The
   * timer checks the time of the last message instead of being re-armed for each
   * one, which would cost a timer per event.
   */
  #armLiveness(generation: number, ms: number): void {
    const clock = this.#options.clock;
    this.#livenessTimer = clock.setTimeout(() => {
      if (generation !== this.#generation) return;
      const silent = clock.now() - this.#lastMessageAt;
      if (silent >= this.#livenessTimeout) this.#lost(generation, { opened: true, reason: `nothing received for ${silent} ms` });
      else this.#armLiveness(generation, this.#livenessTimeout - silent);
    }, ms);
  }

  #scheduleWebSocketRetry(generation: number): void {
    const clock = this.#options.clock;
    clock.clearTimeout(this.#switchTimer);
    this.#switchTimer = clock.setTimeout(() => {
      if (generation !== this.#generation || this.#state !== 'connected') return;
      // A planned switch: the WebSocket resumes from the last id, so nothing is lost in between.
      this.#sseFallback = false;
      this.#abandon();
      this.#start('connecting');
    }, this.#options.websocketRetryDelay);
  }

  /**
   * WebSocket only: swaps in a fresh token shortly before the current one expires,
   * so a long-lived connection never has to drop. (Over SSE the hub ends the stream
   * with `token_expired` and the client reconnects with a fresh token, resuming.)
   * Refreshes only when the new token lives longer than the last, so a `getToken`
   * that keeps returning the same token cannot cause a loop.
   */
  #scheduleRefresh(generation: number, previousExpiry: number | undefined): void {
    const expiry = tokenExpiry(this.#token);
    if (!this.#options.refreshable || expiry === undefined || (previousExpiry !== undefined && expiry <= previousExpiry)) return;
    const clock = this.#options.clock;
    this.#refreshTimer = clock.setTimeout(() => {
      Promise.resolve()
        .then(() => this.#options.getToken())
        .then(
          (token) => {
            if (generation !== this.#generation || token === undefined) return;
            const ref = this.#nextRef++;
            this.#refreshes.set(ref, token);
            this.#transport?.send({ type: 'refresh', token, ref });
          },
          // No fresh token now: the hub will end the connection at expiry and the reconnect asks again.
          () => undefined,
        );
    }, refreshDelay(expiry, clock.now()));
  }

  #refreshed(generation: number, ref: unknown): void {
    const token = this.#refreshes.get(ref as number);
    if (token === undefined) return;
    this.#refreshes.delete(ref as number);
    const previous = tokenExpiry(this.#token);
    this.#token = token;
    this.#scheduleRefresh(generation, previous);
  }

  /** An unasked `unsubscribed` (reason `forbidden`): a refreshed token no longer covers these topics. */
  #unsubscribed(message: Record<string, unknown>): void {
    if (message['ref'] !== undefined || !Array.isArray(message['topics'])) return;
    const topics = message['topics'] as string[];
    for (const topic of topics) this.#held.delete(topic);
    const affected = this.#subscriptions.list().filter((s) => s.patterns.some((p) => topics.includes(p)));
    this.#refuse(affected, new HeraldError('forbidden', `the refreshed token no longer covers ${topics.join(', ')}`));
  }

  #refuse(subscriptions: Subscription[], error: HeraldError): void {
    for (const unhandled of this.#subscriptions.refuse(subscriptions, error)) {
      this.#emitter.emit('error', new HeraldError(error.code, `subscription to ${unhandled.patterns.join(', ')} refused: ${error.message}`));
    }
  }

  #subscribed(ref: unknown): void {
    const subscriptions = this.#requests.get(ref as number);
    if (subscriptions === undefined) return;
    this.#requests.delete(ref as number);
    this.#subscriptions.confirm(subscriptions);
  }

  #error(message: Record<string, unknown>): void {
    const code = String(message['code']);
    const error = new HeraldError(isErrorCode(code) ? code : 'internal_error', String(message['message'] ?? code));
    const ref = message['ref'] as number;
    // A refused refresh changes nothing: the hub ends the connection at expiry and the reconnect fetches a token.
    if (this.#refreshes.delete(ref)) return;
    const subscriptions = this.#requests.get(ref);
    if (subscriptions === undefined) {
      // No ref: the hub is ending the connection and says why; the close follows.
      const retryAfter = message['retryAfter'];
      this.#goodbye = typeof retryAfter === 'number' ? { code, retryAfter } : { code };
      return;
    }
    this.#requests.delete(ref);
    if (TRANSIENT_CODES.has(code)) {
      // The hub could not read its log or ask its hook just now: refusing the
      // subscription would lose it for good. Reconnect with back-off instead; the
      // next connection resumes every subscription from the last event id.
      this.#lost(this.#generation, { opened: true, code, reason: `subscribe refused for now: ${error.message}` });
      return;
    }
    const live = this.#subscriptions.live(subscriptions);
    if (live.length > 1) {
      // One refused pattern fails the whole request; ask again one subscription at a
      // time so only the refused one is told. Their replays may then interleave, but
      // each subscription still gets its own events in order.
      for (const subscription of live) this.#send([subscription], this.#subscriptions.groups(this.#lastEventId, [subscription])[0]!.since);
      return;
    }
    this.#refuse(live, error);
  }

  // ---- keeping the hub's topics in step with the subscriptions -----------------

  #queueSync(): void {
    if (this.#syncQueued) return;
    this.#syncQueued = true;
    queueMicrotask(() => {
      this.#syncQueued = false;
      this.#sync(false);
    });
  }

  /**
   * Brings the connection in line with the subscriptions: connects from `idle`,
   * subscribes and unsubscribes over WebSocket, and opens a new stream over SSE
   * (whose topics are fixed per connection) when the topics changed.
   */
  #sync(fresh: boolean): void {
    const state = this.#state;
    if (state === 'closed' || state === 'failed') return;
    if (state === 'idle') return this.#start('connecting');
    const wanted = this.#subscriptions.patterns();
    if (this.#kind === 'sse') {
      const same = wanted.length === this.#held.size && wanted.every((p) => this.#held.has(p));
      if (same || this.#transport === undefined) return;
      this.#abandon();
      this.#start(state === 'connected' ? 'connecting' : state);
      return;
    }
    if (this.#kind !== 'websocket' || state !== 'connected') return;
    const gone = [...this.#held].filter((p) => !wanted.includes(p));
    if (gone.length > 0) {
      for (const pattern of gone) this.#held.delete(pattern);
      this.#transport?.send({ type: 'unsubscribe', topics: gone });
    }
    if (fresh) {
      const last = this.#lastEventId;
      this.#subscriptions.markUnresumable((s) => this.#subscriptions.groups(last, [s])[0]!.since);
      // A new connection: everything in one request per starting position, so a
      // resume replays all topics as one ordered stream.
      for (const group of this.#subscriptions.groups(this.#lastEventId)) this.#send(group.subscriptions, group.since);
      return;
    }
    const pending = new Set([...this.#requests.values()].flat());
    for (const subscription of this.#subscriptions.list()) {
      if (subscription.confirmed && subscription.patterns.every((p) => this.#held.has(p))) continue;
      if (pending.has(subscription)) continue;
      // Joining a live connection: start from now, or from the subscription's own `since`.
      this.#send([subscription], subscription.confirmed ? this.#lastEventId : subscription.options.since);
    }
  }

  #send(subscriptions: Subscription[], since: string | undefined): void {
    const ref = this.#nextRef++;
    const topics = [...new Set(subscriptions.flatMap((s) => s.patterns))];
    for (const pattern of topics) this.#held.add(pattern);
    this.#requests.set(ref, subscriptions);
    this.#transport?.send(since === undefined ? { type: 'subscribe', topics, ref } : { type: 'subscribe', topics, since, ref });
  }
}

/** Creates a client. Options are validated now; a bad one throws a TypeError naming it. See {@link ClientOptions}. */
export function createClient(options: ClientOptions): HeraldClient {
  return new HeraldClient(options);
}
