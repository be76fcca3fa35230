import type { Logger } from 'pino';
import type { Hub } from '../hub.js';

/** What an event source (Redis bridge, Postgres LISTEN, outbox relay) reports. */
export type SourceResult = 'published' | 'malformed' | 'failed';

/**
 * Counts what a source does and logs skipped input once per interval, never per
 * message: a misbehaving producer must not flood the log or crash the node.
 */
export class SourceReporter {
  readonly #hub: Hub;
  readonly #source: string;
  readonly #log: Logger | undefined;
  readonly #timer: NodeJS.Timeout;
  #skipped = 0;
  #lastError = '';

  constructor(hub: Hub, source: string, log: Logger | undefined, intervalMs = 10_000) {
    this.#hub = hub;
    this.#source = source;
    this.#log = log;
    this.#timer = setInterval(() => this.flush(), intervalMs);
    this.#timer.unref();
  }

  published(count = 1): void {
    this.#hub.metrics.sourceMessages(this.#source, 'published', count);
  }

  failed(error: unknown): void {
    this.#hub.metrics.sourceMessages(this.#source, 'failed', 1);
    this.#log?.warn({ err: error, source: this.#source }, 'a source message could not be published');
  }

  malformed(error: unknown): void {
    this.#skipped++;
    this.#lastError = error instanceof Error ? error.message : String(error);
    this.#hub.metrics.sourceMessages(this.#source, 'malformed', 1);
  }

  /** Logs what was skipped since the last report. */
  flush(): void {
    if (this.#skipped === 0) return;
    this.#log?.warn({ source: this.#source, skipped: this.#skipped, lastError: this.#lastError }, 'skipped malformed source messages');
    this.#skipped = 0;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.flush();
  }
}

/**
 * Reads a JSON message in the shape apps already send. `{"type"?, "data"}` is
 * taken as is. With `wholeObjectAsData` (Postgres trigger payloads such as
 * `{"action":"INSERT","data":{...}}`), any other object becomes the event's data
 * and its `action` or `operation`, lower-cased, the type. Throws on anything else.
 */
export function parseSourceMessage(text: string, wholeObjectAsData: boolean): { type?: string; data: unknown } {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('expected a JSON object');
  const record = parsed as Record<string, unknown>;
  const declared = typeof record['type'] === 'string' ? record['type'] : undefined;
  if ('data' in record && (declared !== undefined || !wholeObjectAsData)) {
    return declared === undefined ? { data: record['data'] } : { type: declared, data: record['data'] };
  }
  if (!wholeObjectAsData) throw new Error('expected a JSON object {"type", "data"}');
  const action = [record['action'], record['operation']].find((v): v is string => typeof v === 'string');
  return action === undefined ? { data: record } : { type: action.toLowerCase(), data: record };
}
