import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { HeraldError, type ConnectedMessage, type ResetReason } from '@herald/protocol';
import { pino, type Logger } from 'pino';
import { Access } from './auth/access.js';
import { exposedPrincipal } from './auth/exposed-principal.js';
import { PublishPolicy } from './auth/publish-policy.js';
import type { AppendResult, Broker, BrokerStatus, EventDraft } from './broker/broker.js';
import { MemoryBroker } from './broker/memory.js';
import { ConnectionRegistry } from './connection-registry.js';
import type { LogEvent } from './encoding/log-event.js';
import type { HubHost, SubscriberRequest } from './http/host.js';
import { answerClientError, owesAnswer } from './http/respond.js';
import { HUB_PATHS, notFound, routeRequest } from './http/router.js';
import { WsEndpoint } from './http/ws-endpoint.js';
import { HubMetrics } from './metrics.js';
import { resolveHubOptions, type HubOptions, type ResolvedHubOptions } from './options.js';
import { recheckRights, type RecheckDeps } from './rights-recheck.js';
import { parsePublishBody } from './publish-input.js';
import { subscribe, unsubscribe, type SubscribeDeps } from './subscribe.js';
import { SubscriptionIndex } from './subscription-index.js';
import type { Connection } from './transport/connection.js';

/** An event as given to {@link Hub.publish}. */
export interface PublishInput {
  topic: string;
  /** Event type; default `message`. */
  type?: string;
  data: unknown;
  /** Publisher id, kept as the event id; a duplicate within retained history is not published twice. */
  id?: string;
}

/**
 * A Herald hub: the log, the subscriber connections and the HTTP and WebSocket
 * endpoints. Create it with {@link createHub}; serve it with `listen`, or embed it
 * in your own server with `handleRequest`/`middleware` and `attach`.
 *
 * The endpoints never see the hub: they get a host (`http/host.ts`), built here
 * from the hub's private parts, so nothing they use is part of this class's API.
 */
export class Hub {
  readonly options: ResolvedHubOptions;
  readonly log: Logger;
  readonly broker: Broker;
  readonly metrics: HubMetrics;
  readonly #index = new SubscriptionIndex<Connection>();
  readonly #registry: ConnectionRegistry;
  readonly #publishPolicy: PublishPolicy;
  readonly #host: HubHost;
  readonly #subscribeDeps: SubscribeDeps;
  readonly #ws: WsEndpoint;
  readonly #ownedServers = new Set<Server>();
  readonly #started: Promise<void>;
  #closing: Promise<void> | undefined;
  readonly #owned: Array<{ close(): Promise<void> }> = [];
  #stamp = 0;
  #current: LogEvent | undefined;
  #deliveryPaused = false;
  // Connections still opening (their replay read in flight) when this node found
  // a gap: each gets its reset right after `connected` (see #takeMissedGap).
  readonly #gapWhileOpening = new Map<Connection, ResetReason>();

  constructor(options: HubOptions = {}) {
    this.options = resolveHubOptions(options);
    const access = new Access(this.options);
    this.#publishPolicy = new PublishPolicy(access, this.options);
    this.log = this.options.logger === false ? pino({ enabled: false }) : (this.options.logger ?? pino({ name: 'herald' }));
    this.broker = this.options.broker ?? new MemoryBroker({ maxEvents: this.options.historySize, maxAgeMs: this.options.historyMaxAge });
    const recheck: RecheckDeps = { access, index: this.#index, log: this.log, reschedule: (connection) => this.#registry.scheduleRecheck(connection) };
    this.#registry = new ConnectionRegistry(this.options, (connection) => void recheckRights(recheck, connection));
    this.metrics = new HubMetrics({
      connections: (transport) => this.#registry.count(transport),
      subscriptions: () => this.#index.size,
    });
    this.#subscribeDeps = this.#buildSubscribeDeps();
    this.#host = this.#buildHost(access);
    this.#ws = new WsEndpoint(this.#host);
    this.#started = this.broker.start(
      (events, gap) => {
        if (gap !== undefined) this.#resetAll(gap);
        this.#dispatch(events);
      },
      (status) => this.#deliveryStatus(status),
    );
    this.#started.catch((error: unknown) => this.log.error({ err: error }, 'the broker failed to start'));
  }

  /** Resolves once the broker has started. */
  ready(): Promise<void> {
    return this.#started;
  }

  /** True once `close()` has been called. */
  get closing(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Every path the hub answers, with its basePath (`/events`, `/publish`, `/ws`,
   * `/healthz`, `/readyz`, `/metrics`, and `/` when the demo is on), for frameworks
   * that need routes declared up front.
   */
  get paths(): string[] {
    return HUB_PATHS.filter((path) => path !== '/' || this.options.demo).map((path) => `${this.options.basePath}${path}`);
  }

  /**
   * True while the broker reports the log unavailable: subscribers have been sent
   * `paused`, and connections opening now get it right after `connected`.
   */
  get deliveryPaused(): boolean {
    return this.#deliveryPaused;
  }

  /** Open subscriber connections. */
  get connectionCount(): number {
    return this.#registry.size;
  }

  /** Subscriptions held by open connections: (pattern, connection) pairs, as the `herald_subscriptions` gauge counts them. */
  get subscriptionCount(): number {
    return this.#index.size;
  }

  /**
   * Publishes one event or a batch from inside the process, validated exactly as
   * POST /publish validates. Resolves once the log holds the events.
   */
  async publish(input: PublishInput | PublishInput[]): Promise<AppendResult[]> {
    return this.#append(parsePublishBody(input, this.options.maxEventBytes));
  }

  /**
   * Handles a request if its path is one of the hub's (under `basePath`); returns
   * false otherwise so the caller can pass it on. Works as the request listener of
   * a `node:http` server and inside Fastify routes (`reply.hijack()` first).
   */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    return routeRequest(this.#host, req, res);
  }

  /** Connect/Express middleware: handles the hub's paths, calls `next()` for the rest. */
  middleware(): (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void {
    return (req, res, next) => {
      if (!this.handleRequest(req, res)) next();
    };
  }

  /** Handles a WebSocket upgrade for `<basePath>/ws`; returns false for other paths. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    return this.#ws.handleUpgrade(req, socket, head);
  }

  /**
   * Adds the hub's WebSocket endpoint to an existing server (its `upgrade` event)
   * and lets `close()` stop it. HTTP requests still need `handleRequest` or
   * `middleware()` in the server's own request handler.
   */
  attach(server: Server): this {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!this.handleUpgrade(req, socket, head)) {
        if (server.listenerCount('upgrade') === 1) socket.destroy();
      }
    });
    return this;
  }

  /** Creates a server of its own for the hub and listens; resolves with it once listening. */
  async listen(port: number, host = '127.0.0.1'): Promise<Server> {
    await this.#started;
    // Node checks headersTimeout and requestTimeout only every connectionsCheckingInterval
    // (30 s by default); a tenth of the shorter limit keeps the answer close to the limit.
    const checkEvery = Math.max(100, Math.min(this.options.headersTimeout, this.options.requestTimeout) / 10);
    const server = createServer({ connectionsCheckingInterval: checkEvery }, (req, res) => {
      owesAnswer(req, res);
      if (!this.handleRequest(req, res)) notFound(res, new URL(req.url ?? '/', 'http://herald.invalid'));
    });
    // Slow-loris guards: a client must finish its headers, and its request, in bounded time.
    server.headersTimeout = this.options.headersTimeout;
    server.requestTimeout = this.options.requestTimeout;
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => answerClientError(error, socket));
    this.#ownedServers.add(server);
    this.attach(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server;
  }

  /** Closes `resource` (an event source such as a RedisBridge) when the hub closes, before the broker. */
  own(resource: { close(): Promise<void> }): void {
    this.#owned.push(resource);
  }

  /**
   * Stops the hub: refuses new connections and publishes, tells every client to
   * come back after a random delay within `shutdownJitter` (so they do not all
   * reconnect at once), waits up to `shutdownTimeout` for them to leave, then cuts
   * off the rest and closes the servers the hub owns and the broker. Idempotent.
   */
  close(): Promise<void> {
    return (this.#closing ??= this.#shutdown());
  }

  async #shutdown(): Promise<void> {
    this.#registry.stop();
    for (const server of this.#ownedServers) server.close();
    await Promise.allSettled(this.#owned.map((resource) => resource.close()));
    const jitter = this.options.shutdownJitter;
    for (const connection of this.#registry) connection.close('shutting_down', Math.floor(Math.random() * (jitter + 1)));
    await this.#registry.drain(this.options.shutdownTimeout);
    for (const connection of this.#registry) connection.destroy();
    for (const server of this.#ownedServers) server.closeAllConnections();
    this.#ws.close();
    await this.broker.close();
    this.log.info('hub closed');
  }

  // What the endpoints may use: the whole seam between the core and HTTP.
  #buildHost(access: Access): HubHost {
    const self = this; // the getters below run with `this` bound to the object literal
    return {
      options: this.options,
      log: this.log,
      metrics: this.metrics,
      access,
      connectionContext: {
        maxQueueBytes: this.options.maxQueueBytes,
        onSlowConsumer: (connection) => {
          this.metrics.slowConsumer();
          this.log.warn({ connectionId: connection.id, transport: connection.transport }, 'dropped a slow consumer');
        },
        onClosed: (connection) => this.#forget(connection),
        countEncoding: (transport) => this.metrics.encoded(transport),
        countDeliveries: (count) => this.metrics.delivered(count),
      },
      get closing() {
        return self.closing;
      },
      readiness: () => ({ ready: !this.closing && this.broker.isReady(), broker: this.broker.name, closing: this.closing }),
      admit: (address) => (this.closing ? new HeraldError('shutting_down') : this.#registry.admit(address)),
      openSubscriber: (connection, request) => this.#openSubscriber(connection, request),
      subscribe: (connection, { topics, since, filter }, announce) => subscribe(this.#subscribeDeps, connection, topics, since, announce, filter),
      unsubscribe: (connection, topics) => unsubscribe(this.#subscribeDeps, connection, topics),
      publishAs: (principal, drafts) => {
        this.#publishPolicy.authorize(principal, drafts);
        return this.#append(drafts);
      },
      refreshToken: async (connection, token) => {
        const { principal, revoked } = await access.reauthorize(connection.principal, token, [...connection.topics]);
        connection.principal = principal;
        this.#registry.reschedule(connection);
        return revoked.length === 0 ? [] : unsubscribe(this.#subscribeDeps, connection, revoked);
      },
    };
  }

  #buildSubscribeDeps(): SubscribeDeps {
    const self = this; // the getters below run with `this` bound to the object literal
    return {
      broker: this.broker,
      index: this.#index,
      metrics: this.metrics,
      get deliveryPaused() {
        return self.#deliveryPaused;
      },
      takeMissedGap: (connection) => this.#takeMissedGap(connection),
    };
  }

  // The one place a subscriber connection opens, for SSE and WebSocket alike:
  // admitted before (by the endpoint, which then built the connection), it is
  // registered, subscribed, and started by `connected` once the outcome is known.
  async #openSubscriber(connection: Connection, { topics, since, filter, filtered }: SubscriberRequest): Promise<void> {
    // Gone already (the client left during the handshake): nothing to track.
    if (connection.closed) return;
    this.#registry.register(connection);
    await subscribe(
      this.#subscribeDeps,
      connection,
      topics,
      since,
      ({ resumed, reset, lastEventId }) => {
        const connected: ConnectedMessage = { type: 'connected', connectionId: connection.id, heartbeat: this.options.heartbeatInterval, resumed, lastEventId };
        // Who it is and what it holds, so a page whose topics the server chose knows them.
        if (topics.length > 0) connected.topics = [...topics];
        const principal = exposedPrincipal(connection.principal, this.options.exposeClaims);
        if (principal !== undefined) connected.principal = principal;
        // After a reset the position is the last reset's `id:` instead (see SubscribeOutcome.lastEventId).
        connection.start(connected, reset === undefined ? lastEventId : undefined);
      },
      filter,
      filtered,
    );
  }

  // Appends validated drafts: the in-process `publish` and `publishAs` both end here.
  async #append(drafts: EventDraft[]): Promise<AppendResult[]> {
    if (this.closing) throw new HeraldError('shutting_down');
    await this.#started;
    const results = await this.broker.append(drafts);
    this.metrics.published(results.filter((r) => !r.duplicate).length);
    return results;
  }

  // The gap this node found while `connection` was still opening, if any,
  // forgotten once taken: the subscribe procedure sends its resets right after
  // `connected`, since events between its replay and the gap were missed.
  #takeMissedGap(connection: Connection): ResetReason | undefined {
    const reason = this.#gapWhileOpening.get(connection);
    this.#gapWhileOpening.delete(connection);
    return reason;
  }

  #forget(connection: Connection): void {
    if (!this.#registry.forget(connection)) return;
    this.#gapWhileOpening.delete(connection);
    for (const pattern of connection.topics) this.#index.remove(pattern, connection);
  }

  // One visitor for every dispatch (no closure per event): it reads the event and
  // stamp from fields. The stamp makes a connection with several matching patterns
  // receive the event once.
  readonly #visit = (connection: Connection): void => {
    if (connection.stamp === this.#stamp) return;
    connection.stamp = this.#stamp;
    connection.deliver(this.#current!);
  };

  // This node missed events (it stalled or fell behind retention, or the log's
  // history was lost): no live subscriber can be sure of its state any more, so
  // every one is told to reload, before any later event (the broker reports the
  // gap before the events that follow it, and before it reports `available`).
  #resetAll(reason: ResetReason): void {
    this.log.error({ reason }, 'this node missed events from the log; sending reset to every subscriber');
    for (const connection of this.#registry) {
      // A connection still opening may have read the log only up to before the
      // gap: it gets its resets right after `connected` (subscribe.ts).
      if (!connection.started) {
        this.#gapWhileOpening.set(connection, reason);
        continue;
      }
      for (const topic of connection.topics) {
        connection.sendControl({ type: 'reset', topic, reason });
        this.metrics.reset(reason);
      }
    }
  }

  // Announces outages of the log to every subscriber: `paused` while it is
  // unavailable, `resumed` once the broker has checked for a gap (any resets
  // went out first). Connections still opening get `paused` from subscribe.ts.
  #deliveryStatus(status: BrokerStatus): void {
    const paused = status === 'unavailable';
    if (paused === this.#deliveryPaused) return;
    this.#deliveryPaused = paused;
    if (paused) this.log.warn('the event log is unavailable; delivery paused');
    else this.log.info('the event log is available; delivery resumed');
    for (const connection of this.#registry) {
      if (!connection.started) continue;
      connection.sendControl(paused ? { type: 'paused', reason: 'log_unavailable' } : { type: 'resumed' });
    }
  }

  #dispatch(events: readonly LogEvent[]): void {
    for (const event of events) {
      this.#current = event;
      this.#stamp++;
      this.#index.forEachMatch(event.topic, this.#visit);
    }
    this.#current = undefined;
    const last = events[events.length - 1];
    if (last !== undefined) this.metrics.publishToWrite(Math.max(0, Date.now() - last.acceptedAt) / 1000);
  }
}

/** Creates a hub. Options are validated now; a bad one throws a TypeError naming it. */
export function createHub(options: HubOptions = {}): Hub {
  return new Hub(options);
}
