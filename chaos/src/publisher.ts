import type { Ledger } from './ledger.js';

/** How a publisher treats a failed attempt. */
type RetryMode =
  /** Retry with the same publisher id until acknowledged (or the deadline): the ordinary safe publisher. */
  | 'until-acked'
  /**
   * One attempt per event. A `503 broker_unavailable` is recorded as a refusal, so the
   * accounting can check that a refused event is never delivered.
   */
  | 'once';

/** Options of {@link runPublisher}. */
export interface PublisherOptions {
  name: string;
  /** Prefix of every key (and publisher id), unique per run. */
  run: string;
  /** The hub (or proxy/balancer) URL, read before every attempt. */
  url: () => string;
  topics: readonly string[];
  ledger: Ledger;
  mode: RetryMode;
  /** Pause between events, ms. */
  intervalMs: number;
  /** Deadline of one attempt, ms. */
  attemptTimeoutMs: number;
  /** Stop starting new events when this returns true. */
  stopped: () => boolean;
  /** Upper bound on events, whatever the time. */
  maxEvents: number;
  /** An event still unacknowledged this long after `stopped()` turned true is abandoned, ms. */
  graceMs: number;
  random: () => number;
  /** Filler added to each event's data, bytes, so backlogs reach realistic sizes. Default 0. */
  padBytes?: number;
}

/** What a publisher did. */
export interface PublisherStats {
  attempted: number;
  acknowledged: number;
  refused: number;
  abandoned: number;
  retries: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type Outcome = 'acked' | 'refused' | 'retry';

async function attempt(options: PublisherOptions, key: string, topic: string): Promise<Outcome> {
  try {
    const response = await fetch(`${options.url()}/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ topic, type: 'chaos', id: key, data: options.padBytes ? { k: key, pad: 'x'.repeat(options.padBytes) } : { k: key } }),
      signal: AbortSignal.timeout(options.attemptTimeoutMs),
    });
    const text = await response.text();
    if (response.status === 201) return 'acked';
    if (response.status === 503 && text.includes('"broker_unavailable"')) return 'refused';
    return 'retry';
  } catch {
    return 'retry';
  }
}

/**
 * Publishes events one after another over `POST /publish`, each with its own
 * publisher id (the key), so a retry can never publish an event twice. Every
 * event is recorded in the ledger before its first attempt and marked when the
 * hub acknowledges it (201). Bounded by `maxEvents` and by `stopped()`+`graceMs`.
 */
export async function runPublisher(options: PublisherOptions): Promise<PublisherStats> {
  const stats: PublisherStats = { attempted: 0, acknowledged: 0, refused: 0, abandoned: 0, retries: 0 };
  let stoppedAt: number | undefined;
  for (let seq = 0; seq < options.maxEvents && !options.stopped(); seq++) {
    const key = `chaos.${options.run}.${options.name}.${seq}`;
    const topic = options.topics[Math.floor(options.random() * options.topics.length)]!;
    stats.attempted += 1;
    for (let tries = 0; ; tries++) {
      options.ledger.sent(key, topic);
      const outcome = await attempt(options, key, topic);
      if (outcome === 'acked') {
        options.ledger.acked(key);
        stats.acknowledged += 1;
        break;
      }
      if (outcome === 'refused') options.ledger.refused(key);
      if (options.mode === 'once') {
        if (outcome === 'refused') stats.refused += 1;
        else stats.abandoned += 1;
        break;
      }
      if (options.stopped()) stoppedAt ??= Date.now();
      if (stoppedAt !== undefined && Date.now() - stoppedAt > options.graceMs) {
        stats.abandoned += 1;
        break;
      }
      stats.retries += 1;
      await sleep(Math.min(1000, 50 * 2 ** Math.min(tries, 5)) * (0.5 + options.random() / 2));
    }
    if (options.intervalMs > 0) await sleep(options.intervalMs);
  }
  return stats;
}
