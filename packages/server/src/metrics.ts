import type { ResetReason } from '@herald/protocol';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TransportName } from './transport/connection.js';

/** Live figures the metrics read at scrape time instead of being pushed on the hot path. */
export interface MetricsSources {
  connections(transport: TransportName): number;
  subscriptions(): number;
}

/**
 * The hub's Prometheus metrics, in a registry of its own so several hubs in one
 * process (tests, embedding) never collide. Per-delivery counts are plain numbers
 * folded into the counters at scrape time: a prom-client `inc` per socket write
 * would cost more than the write's JavaScript.
 */
export class HubMetrics {
  readonly registry = new Registry();
  readonly #published: Counter;
  readonly #resets: Counter<'reason'>;
  readonly #slow: Counter;
  readonly #rejected: Counter<'code'>;
  readonly #latency: Histogram;
  readonly #sources: Counter<'source' | 'result'>;
  #delivered = 0;
  #encoded = { sse: 0, ws: 0 };

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    new Gauge({
      name: 'herald_connections',
      help: 'Open subscriber connections by transport',
      labelNames: ['transport'],
      registers,
      collect() {
        this.set({ transport: 'sse' }, sources.connections('sse'));
        this.set({ transport: 'ws' }, sources.connections('ws'));
      },
    });
    new Gauge({
      name: 'herald_subscriptions',
      help: 'Topic patterns held across all connections',
      registers,
      collect() {
        this.set(sources.subscriptions());
      },
    });
    this.#published = new Counter({ name: 'herald_events_published_total', help: 'Events appended to the log', registers });
    const self = this;
    let reportedDelivered = 0;
    new Counter({
      name: 'herald_events_delivered_total',
      help: 'Event frames written to subscriber connections (live and replayed)',
      registers,
      collect() {
        this.inc(self.#delivered - reportedDelivered);
        reportedDelivered = self.#delivered;
      },
    });
    const reportedEncoded = { sse: 0, ws: 0 };
    new Counter({
      name: 'herald_frames_encoded_total',
      help: 'Event frames built, by transport; one per event and transport, however many connections receive it',
      labelNames: ['transport'],
      registers,
      collect() {
        for (const transport of ['sse', 'ws'] as const) {
          this.inc({ transport }, self.#encoded[transport] - reportedEncoded[transport]);
          reportedEncoded[transport] = self.#encoded[transport];
        }
      },
    });
    this.#resets = new Counter({ name: 'herald_resets_total', help: 'reset messages sent, by reason', labelNames: ['reason'], registers });
    this.#slow = new Counter({ name: 'herald_slow_consumer_disconnects_total', help: 'Connections dropped for falling behind', registers });
    this.#rejected = new Counter({
      name: 'herald_requests_rejected_total',
      help: 'Requests, frames and connections refused, by error code',
      labelNames: ['code'],
      registers,
    });
    this.#sources = new Counter({
      name: 'herald_source_messages_total',
      help: 'Messages from event sources (redis_bridge, pg_listen, outbox), by result: published, malformed (skipped) or failed (log unavailable)',
      labelNames: ['source', 'result'],
      registers,
    });
    this.#latency = new Histogram({
      name: 'herald_publish_to_write_seconds',
      help: 'Time from the hub accepting an event to its frame being written to the last live subscriber',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
  }

  published(count: number): void {
    this.#published.inc(count);
  }

  delivered(count: number): void {
    this.#delivered += count;
  }

  encoded(transport: TransportName): void {
    this.#encoded[transport]++;
  }

  reset(reason: ResetReason): void {
    this.#resets.inc({ reason });
  }

  slowConsumer(): void {
    this.#slow.inc();
  }

  rejected(code: string): void {
    this.#rejected.inc({ code });
  }

  sourceMessages(source: string, result: 'published' | 'malformed' | 'failed', count: number): void {
    this.#sources.inc({ source, result }, count);
  }

  publishToWrite(seconds: number): void {
    this.#latency.observe(seconds);
  }
}
