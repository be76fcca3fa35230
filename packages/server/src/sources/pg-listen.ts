import pg from 'pg';
import type { Logger } from 'pino';
import type { Lease } from '../broker/broker.js';
import type { Hub } from '../hub.js';
import { leaseBridge, publishFromSource, type BridgeMapping } from './redis-bridge.js';
import { parseSourceMessage, SourceReporter } from './source-input.js';

/** Settings of {@link PgListenBridge}. */
export interface PgListenOptions {
  url: string;
  /** Postgres NOTIFY channels, each mapped to a topic. */
  mappings: readonly BridgeMapping[];
  logger?: Logger;
}

// How long a lost LISTEN connection waits before each reconnect attempt.
const RELISTEN_MS = 1000;

/**
 * Relays NOTIFY payloads of existing triggers (`--pg-listen session_changes=sessions`).
 * Lossy by nature: Postgres does not keep notifications for a listener that is
 * not connected, and a payload is limited to 8,000 bytes. The outbox is the
 * lossless choice; this is for triggers an app already has.
 *
 * NOTIFY reaches every listening node, so every node listens but only the holder
 * of the mapping's lease (`pg-listen:<channel>=<topic>`, see Broker.lease)
 * publishes: one notification, one event, however many nodes share the log.
 */
export class PgListenBridge {
  readonly #hub: Hub;
  readonly #options: PgListenOptions;
  readonly #topics = new Map<string, { topic: string; lease: Lease | undefined }>();
  readonly #reporter: SourceReporter;
  #client: pg.Client | undefined;
  #listening = false;
  #closed = false;

  constructor(hub: Hub, options: PgListenOptions) {
    this.#hub = hub;
    this.#options = options;
    for (const { channel, topic } of options.mappings) this.#topics.set(channel, { topic, lease: undefined });
    this.#reporter = new SourceReporter(hub, 'pg_listen', options.logger);
  }

  /**
   * Listens on every mapped channel, then takes part in each mapping's lease;
   * resolves once listening and each lease's first claim was answered. The hub
   * must have started (its broker keeps the leases).
   */
  async start(): Promise<void> {
    await this.#listen();
    // Only a node that is listening can relay, so only it may hold the role.
    const listening = (): boolean => this.#listening;
    for (const [channel, route] of this.#topics) {
      route.lease = leaseBridge(this.#hub, 'pg-listen', channel, route.topic, listening, this.#options.logger);
    }
    await Promise.all([...this.#topics.values()].map((route) => route.lease!.ready));
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#options.url, application_name: 'herald-listen' });
    this.#client = client;
    client.on('notification', ({ channel, payload }) => {
      const route = this.#topics.get(channel);
      // A standby node drops the notification: the lease holder publishes it.
      if (route?.lease?.held() !== true) return;
      publishFromSource(this.#hub, this.#reporter, route.topic, () => parseSourceMessage(payload ?? '', true));
    });
    client.on('error', (error) => {
      this.#listening = false;
      this.#options.logger?.warn({ err: error }, 'pg listen: connection lost; reconnecting (notifications sent meanwhile are lost)');
      void client.end().catch(() => undefined);
      this.#relisten();
    });
    await client.connect();
    for (const channel of this.#topics.keys()) await client.query(`LISTEN "${channel.replaceAll('"', '""')}"`);
    this.#listening = true;
    this.#options.logger?.info({ channels: [...this.#topics.keys()] }, 'pg listen: listening');
  }

  // Tries again every second until listening or closed: a reconnect that fails
  // (Postgres still down) must not end listening for good.
  #relisten(): void {
    if (this.#closed) return;
    setTimeout(() => {
      if (this.#closed) return;
      this.#listen().catch((error: unknown) => {
        this.#options.logger?.debug({ err: error }, 'pg listen: reconnect failed; retrying');
        void this.#client?.end().catch(() => undefined);
        this.#relisten();
      });
    }, RELISTEN_MS).unref();
  }

  /** Gives up the leases (so another node takes over at once) and stops listening. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#listening = false;
    this.#reporter.stop();
    await Promise.all([...this.#topics.values()].map((route) => route.lease?.release()));
    await this.#client?.end().catch(() => undefined);
  }
}
