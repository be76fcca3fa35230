import pg from 'pg';
import type { Logger } from 'pino';
import type { Hub } from '../hub.js';
import { publishFromSource, type BridgeMapping } from '../redis-bridge.js';
import { parseSourceMessage, SourceReporter } from '../source-input.js';

/** Settings of {@link PgListenBridge}. */
export interface PgListenOptions {
  url: string;
  /** Postgres NOTIFY channels, each mapped to a topic. */
  mappings: readonly BridgeMapping[];
  logger?: Logger;
}

/**
 * Relays NOTIFY payloads of existing triggers (`--pg-listen session_changes=sessions`).
 * Lossy by nature: Postgres does not keep notifications for a listener that is
 * not connected, and a payload is limited to 8,000 bytes. The outbox is the
 * lossless choice; this is for triggers an app already has.
 */
export class PgListenBridge {
  readonly #hub: Hub;
  readonly #options: PgListenOptions;
  readonly #topics = new Map<string, string>();
  readonly #reporter: SourceReporter;
  #client: pg.Client | undefined;
  #closed = false;

  constructor(hub: Hub, options: PgListenOptions) {
    this.#hub = hub;
    this.#options = options;
    for (const { channel, topic } of options.mappings) this.#topics.set(channel, topic);
    this.#reporter = new SourceReporter(hub, 'pg_listen', options.logger);
  }

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#options.url, application_name: 'herald-listen' });
    this.#client = client;
    client.on('notification', ({ channel, payload }) => {
      const topic = this.#topics.get(channel);
      if (topic !== undefined) publishFromSource(this.#hub, this.#reporter, topic, () => parseSourceMessage(payload ?? '', true));
    });
    client.on('error', (error) => {
      this.#options.logger?.warn({ err: error }, 'pg listen: connection lost; reconnecting (notifications sent meanwhile are lost)');
      void client.end().catch(() => undefined);
      if (!this.#closed) setTimeout(() => void this.start().catch(() => undefined), 1000).unref();
    });
    await client.connect();
    for (const channel of this.#topics.keys()) await client.query(`LISTEN "${channel.replaceAll('"', '""')}"`);
    this.#options.logger?.info({ channels: [...this.#topics.keys()] }, 'pg listen: listening');
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#reporter.stop();
    await this.#client?.end().catch(() => undefined);
  }
}
