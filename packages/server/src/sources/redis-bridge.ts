import { assertTopic, HeraldError } from '@herald/protocol';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Lease } from '../broker/broker.js';
import { redactUrl } from '../broker/redis.js';
import type { Hub } from '../hub.js';
import { parseSourceMessage, SourceReporter } from './source-input.js';

/** One channel (or glob pattern) of Redis pub/sub mapped to a Herald topic. */
export interface BridgeMapping {
  channel: string;
  topic: string;
}

/** Settings of {@link RedisBridge}. */
export interface RedisBridgeOptions {
  url: string;
  mappings: readonly BridgeMapping[];
  /** How often skipped messages are logged, in milliseconds. Default 10,000. */
  reportIntervalMs?: number;
  logger?: Logger;
}

/** Parses `channel=topic` as given to `--redis-bridge` and `--pg-listen`. */
export function parseBridgeMapping(text: string): BridgeMapping {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) throw new Error(`expected channel=topic, got ${JSON.stringify(text)}`);
  const mapping = { channel: text.slice(0, eq), topic: text.slice(eq + 1) };
  try {
    assertTopic(mapping.topic);
  } catch (error) {
    throw new Error(`bridge ${JSON.stringify(text)}: ${(error as Error).message}`, { cause: error });
  }
  return mapping;
}

const GLOB = /[*?[]/;

/** Where messages of one subscribed channel or pattern go, and the lease that says whether this node sends them. */
interface Route {
  topic: string;
  lease: Lease | undefined;
}

/**
 * Republishes what apps already PUBLISH to Redis channels: each message must be
 * JSON `{"type"?, "data"}` (type defaults to `message`) and becomes an event on
 * the mapped topic. Redis pub/sub keeps nothing, so messages sent while the
 * bridge is disconnected are lost; apps that need every change should publish to
 * Herald (or the outbox) instead.
 *
 * Pub/sub delivers each message to every node that bridges the channel, so every
 * node stays subscribed but only the holder of the mapping's lease
 * (`redis-bridge:<channel>=<topic>`, see Broker.lease) publishes it: one message,
 * one event, however many nodes share the log. A standby takes over within the
 * lease TTL when the holder dies; messages in between are lost, as pub/sub keeps none.
 */
export class RedisBridge {
  readonly #hub: Hub;
  readonly #options: RedisBridgeOptions;
  readonly #exact = new Map<string, Route>();
  readonly #patterns = new Map<string, Route>();
  #subscriber: Redis | undefined;
  #reporter: SourceReporter | undefined;

  constructor(hub: Hub, options: RedisBridgeOptions) {
    this.#hub = hub;
    this.#options = options;
    for (const { channel, topic } of options.mappings) (GLOB.test(channel) ? this.#patterns : this.#exact).set(channel, { topic, lease: undefined });
  }

  /**
   * Subscribes to every mapped channel, then takes part in each mapping's lease;
   * resolves once Redis has confirmed and each lease's first claim was answered.
   * The hub must have started (its broker keeps the leases).
   */
  async start(): Promise<void> {
    this.#reporter = new SourceReporter(this.#hub, 'redis_bridge', this.#options.logger, this.#options.reportIntervalMs);
    const subscriber = new Redis(this.#options.url, { lazyConnect: true, connectionName: 'herald-bridge', maxRetriesPerRequest: null });
    this.#subscriber = subscriber;
    subscriber.on('error', (error: Error) => this.#options.logger?.debug({ err: error }, 'redis bridge connection error'));
    subscriber.on('message', (channel: string, message: string) => this.#receive(this.#exact.get(channel), message));
    subscriber.on('pmessage', (pattern: string, _channel: string, message: string) => this.#receive(this.#patterns.get(pattern), message));
    await subscriber.connect();
    if (this.#exact.size > 0) await subscriber.subscribe(...this.#exact.keys());
    if (this.#patterns.size > 0) await subscriber.psubscribe(...this.#patterns.keys());
    this.#options.logger?.info({ url: redactUrl(this.#options.url), channels: [...this.#exact.keys(), ...this.#patterns.keys()] }, 'redis bridge subscribed');
    // Only a node whose subscription is up can bridge, so only it may hold the role.
    const subscribed = (): boolean => subscriber.status === 'ready';
    const routes = [...this.#exact, ...this.#patterns];
    for (const [channel, route] of routes) route.lease = leaseBridge(this.#hub, 'redis-bridge', channel, route.topic, subscribed, this.#options.logger);
    await Promise.all(routes.map(([, route]) => route.lease!.ready));
  }

  /** Gives up the leases (so another node takes over at once) and unsubscribes. */
  async close(): Promise<void> {
    this.#reporter?.stop();
    await Promise.all([...this.#exact.values(), ...this.#patterns.values()].map((route) => route.lease?.release()));
    this.#subscriber?.disconnect();
  }

  #receive(route: Route | undefined, message: string): void {
    // A standby node drops the message: the lease holder publishes it.
    if (route?.lease?.held() !== true) return;
    publishFromSource(this.#hub, this.#reporter!, route.topic, () => parseSourceMessage(message, false));
  }
}

/**
 * Takes part in the lease `<kind>:<channel>=<topic>` on the hub's broker, logging
 * when this node starts or stops being the one that bridges the mapping. One lease
 * per mapping, so nodes bridging different channels each bridge their own.
 */
export function leaseBridge(hub: Hub, kind: string, channel: string, topic: string, eligible: () => boolean, log: Logger | undefined): Lease {
  const name = `${kind}:${channel}=${topic}`;
  const lease = hub.broker.lease(name, {
    eligible,
    onChange: (held) =>
      log?.info({ lease: name, held }, held ? `${kind}: this node now bridges ${channel}` : `${kind}: this node no longer bridges ${channel}`),
  });
  void lease.ready.then(() => {
    if (!lease.held()) log?.info({ lease: name, held: false }, `${kind}: another node bridges ${channel}; standing by`);
  });
  return lease;
}

/** Publishes one source message, counting it as published, malformed or failed. */
export function publishFromSource(hub: Hub, reporter: SourceReporter, topic: string, parse: () => { type?: string; data: unknown }): void {
  let input: { topic: string; type?: string; data: unknown };
  try {
    input = { topic, ...parse() };
  } catch (error) {
    reporter.malformed(error);
    return;
  }
  hub.publish(input).then(
    () => reporter.published(),
    (error: unknown) => {
      if (error instanceof HeraldError && error.code !== 'broker_unavailable' && error.code !== 'shutting_down') reporter.malformed(error);
      else reporter.failed(error);
    },
  );
}
