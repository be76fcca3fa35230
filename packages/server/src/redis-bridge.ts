import { assertTopic, HeraldError } from '@herald/protocol';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { redactUrl } from './broker/redis.js';
import type { Hub } from './hub.js';
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
    throw new Error(`bridge ${JSON.stringify(text)}: ${(error as Error).message}`);
  }
  return mapping;
}

const GLOB = /[*?[]/;

/**
 * Republishes what apps already PUBLISH to Redis channels: each message must be
 * JSON `{"type"?, "data"}` and becomes an event on the mapped topic. Redis pub/sub
 * keeps nothing, so messages sent while the bridge is disconnected are lost; apps
 * that need every change should publish to Herald (or the outbox) instead.
 */
export class RedisBridge {
  readonly #hub: Hub;
  readonly #options: RedisBridgeOptions;
  readonly #exact = new Map<string, string>();
  readonly #patterns = new Map<string, string>();
  #subscriber: Redis | undefined;
  #reporter: SourceReporter | undefined;

  constructor(hub: Hub, options: RedisBridgeOptions) {
    this.#hub = hub;
    this.#options = options;
    for (const { channel, topic } of options.mappings) (GLOB.test(channel) ? this.#patterns : this.#exact).set(channel, topic);
  }

  /** Subscribes to every mapped channel; resolves once Redis has confirmed. */
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
    this.#options.logger?.info(
      { url: redactUrl(this.#options.url), channels: [...this.#exact.keys(), ...this.#patterns.keys()] },
      'redis bridge subscribed',
    );
  }

  async close(): Promise<void> {
    this.#reporter?.stop();
    this.#subscriber?.disconnect();
  }

  #receive(topic: string | undefined, message: string): void {
    if (topic === undefined) return;
    publishFromSource(this.#hub, this.#reporter!, topic, () => parseSourceMessage(message, false));
  }
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
