import { decodeHubMessage, HeraldError, isErrorCode, type HubError } from '@herald/protocol';
import { backoffDelay } from './backoff.js';
import { Emitter } from './emitter.js';
import { lossCode, nextStep, type Goodbye } from './loss-policy.js';
import { resolveOptions, type ClientOptions, type ResolvedOptions } from './options.js';
import { publishOverHttp, type PublishOptions } from './publish.js';
import { ResumePosition } from './resume-position.js';
import { SubscriptionSync } from './subscription-sync.js';
import { newSubscription, Subscriptions } from './subscriptions.js';
import { TokenRefresh } from './token-refresh.js';
import type { Transport, TransportEnd } from './transport.js';
import type { ClientEvents, ConnectionState, DeliveryState, SubscribeOptions } from './types.js';

type Kind = 'websocket' | 'sse';

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
  readonly #position: ResumePosition;
  #state: ConnectionState = 'idle';
  #delivery: DeliveryState = 'live';
  #generation = 0;
  #transport: Transport | undefined;
  #kind: Kind | undefined;
  /** Generation that received `connected`. */
  #connectedGeneration = -1;
  #goodbye: Goodbye | undefined;
  /** Failed connection attempts in a row. */
  #failures = 0;
  /** auto mode: WebSocket could not connect, so SSE is used until `#switchTimer` tries WebSocket again. */
  #sseFallback = false;
  #retryTimer: unknown;
  #connectTimer: unknown;
  #livenessTimer: unknown;
  #switchTimer: unknown;
  #livenessTimeout = 0;
  #lastMessageAt = 0;
  /** Refs of WebSocket requests, shared by subscribe and refresh so their replies never collide. */
  #nextRef = 1;
  readonly #sync: SubscriptionSync;
  readonly #refresh: TokenRefresh;
  #syncQueued = false;
  readonly #stopOnline: () => void;

  constructor(options: ClientOptions) {
    this.#options = resolveOptions(options);
    this.#position = new ResumePosition(this.#options.dedupeWindow);
    const send = (message: object): void => this.#transport?.send(message);
    const nextRef = (): number => this.#nextRef++;
    const lastEventId = (): string | undefined => this.#position.lastEventId;
    this.#sync = new SubscriptionSync(this.#subscriptions, { send, nextRef, lastEventId, reportError: (error) => this.#emitter.emit('error', error) });
    this.#refresh = new TokenRefresh(this.#options, { send, nextRef, isCurrent: (generation) => generation === this.#generation });
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
    return this.#position.lastEventId;
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
    const subscription = newSubscription(topics, options);
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
    this.#sync.restart();
    clock.clearTimeout(this.#retryTimer);
    clock.clearTimeout(this.#connectTimer);
    clock.clearTimeout(this.#livenessTimer);
    this.#refresh.stop();
    this.#retryTimer = this.#connectTimer = this.#livenessTimer = undefined;
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
          const sse = kind === 'sse';
          const topics = sse ? this.#subscriptions.patterns() : [];
          const since = sse ? this.#subscriptions.streamSince(this.#position.lastEventId) : token ? this.#position.lastEventId : undefined;
          if (sse) this.#subscriptions.markUnresumable(() => since);
          this.#position.opening(sse ? since : undefined);
          const filter = kind === 'sse' ? this.#subscriptions.hubFilter() : undefined;
          this.#sync.restart(topics, filter);
          this.#refresh.opened(token ?? undefined);
          const factory = kind === 'sse' ? options.sse : options.websocket!;
          this.#transport = factory(
            { url: options.url, token: token ?? undefined, topics, since, filter },
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
   * to SSE now, and what the error catalog says for the loss (see `nextStep`):
   * retrying at once with a fresh token, waiting the hub's `retryAfter`, backing
   * off, or giving up.
   */
  #lost(generation: number, end: TransportEnd): void {
    if (generation !== this.#generation) return;
    const loss = { end, goodbye: this.#goodbye, wasConnected: this.#connectedGeneration === generation };
    const kind = this.#kind;
    this.#abandon();
    if (this.#state === 'closed') return;
    const options = this.#options;
    if (this.#idle()) return this.#setState('idle');
    // A goodbye means the hub answered over the WebSocket (a refused token, close
    // 4401): WebSocket works, and SSE would be refused alike, so no fallback.
    if (!loss.wasConnected && kind === 'websocket' && options.mode === 'auto' && loss.goodbye === undefined) {
      // WebSocket never got through (perhaps a proxy refuses upgrades): try SSE at once.
      this.#sseFallback = true;
      this.#attempt();
      return;
    }
    // Both transports failed: the hub itself is unreachable, so start again from WebSocket.
    if (!loss.wasConnected && kind === 'sse' && options.mode === 'auto') this.#sseFallback = false;
    let delay = nextStep(loss, options.refreshable);
    if (delay instanceof HeraldError) return this.#fail(delay);
    if (delay === 'back_off') {
      // The loss of a working connection is the first failure (the count was reset by `connected`),
      // so a drop and a failed first attempt are followed by the same schedule: maxAttempts retries.
      if (++this.#failures > options.maxAttempts) {
        const code = lossCode(loss);
        return this.#fail(new HeraldError(isErrorCode(code) ? code : 'internal_error', `gave up after ${options.maxAttempts} retries: ${end.reason}`));
      }
      delay = backoffDelay(Math.max(0, this.#failures - 1), options.backoff, options.random);
    }
    this.#setState('reconnecting');
    this.#retryTimer = options.clock.setTimeout(() => {
      this.#retryTimer = undefined;
      this.#attempt();
    }, delay);
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

  #message(generation: number, raw: Record<string, unknown>): void {
    if (generation !== this.#generation) return;
    // Anything from the hub proves the connection alive, even a message this version cannot read.
    this.#lastMessageAt = this.#options.clock.now();
    const message = decodeHubMessage(raw);
    switch (message.type) {
      case 'event':
        if (this.#position.received(message.event)) this.#subscriptions.dispatch(message.event);
        return;
      case 'connected':
        this.#position.adopt(message);
        return this.#connected(generation, message.heartbeat);
      case 'subscribed':
        return this.#sync.subscribed(message.ref);
      case 'unsubscribed':
        // With a ref it answers our own `unsubscribe`; without, the hub revoked topics.
        if (message.ref === undefined) this.#sync.revoked(message.topics);
        return;
      case 'refreshed':
        return this.#refresh.refreshed(generation, message.ref);
      case 'reset':
        return this.#subscriptions.reset({ topic: message.topic, reason: message.reason });
      case 'error':
        return this.#error(message);
      case 'paused':
        return this.#setDelivery('paused');
      case 'resumed':
        return this.#setDelivery('live');
    }
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
    if (this.#kind === 'websocket') this.#refresh.schedule(generation);
    if (this.#kind === 'sse') {
      this.#sync.confirmStream();
      if (this.#sseFallback) this.#scheduleWebSocketRetry(generation);
    }
    this.#syncNow(true);
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

  #error(message: HubError): void {
    const error = new HeraldError(isErrorCode(message.code) ? message.code : 'internal_error', message.message);
    if (this.#refresh.refused(message.ref)) return;
    const refusal = this.#sync.refused(message.ref, message.code, error);
    if (refusal === undefined) {
      // No request of ours: the hub is ending the connection and says why; the close follows.
      this.#goodbye = message;
      return;
    }
    if (refusal === 'reconnect') this.#lost(this.#generation, { opened: true, code: message.code, reason: `subscribe refused for now: ${error.message}` });
  }

  // ---- keeping the hub's topics in step with the subscriptions -----------------

  #queueSync(): void {
    if (this.#syncQueued) return;
    this.#syncQueued = true;
    queueMicrotask(() => {
      this.#syncQueued = false;
      this.#syncNow(false);
    });
  }

  /**
   * Brings the connection in line with the subscriptions: connects from `idle`,
   * subscribes and unsubscribes over WebSocket, and opens a new stream over SSE
   * (whose topics are fixed per connection) when the topics changed.
   */
  #syncNow(fresh: boolean): void {
    const state = this.#state;
    if (state === 'closed' || state === 'failed') return;
    if (state === 'idle') return this.#start('connecting');
    if (this.#kind === 'sse') {
      if (this.#sync.streamCarries(this.#subscriptions.patterns(), this.#subscriptions.hubFilter()) || this.#transport === undefined) return;
      this.#abandon();
      this.#start(state === 'connected' ? 'connecting' : state);
      return;
    }
    if (this.#kind === 'websocket' && state === 'connected') this.#sync.syncWebSocket(fresh);
  }
}

/** Creates a client. Options are validated now; a bad one throws a TypeError naming it. See {@link ClientOptions}. */
export function createClient(options: ClientOptions): HeraldClient {
  return new HeraldClient(options);
}
