// How an app server publishes to Herald over HTTP, as any back end would (Django, Go, Node):
// POST /publish with a publish key. Events wait in an in-order queue until the hub takes them,
// so a hub restart delays events but never loses them; each carries an id the app chose, so a
// retry after a lost answer is a duplicate the hub drops, not a second event.

/** One event as the app hands it over. */
export interface OutgoingEvent {
  topic: string;
  type: string;
  data: unknown;
}

export interface HttpPublisherOptions {
  /** The hub's base URL, e.g. `http://127.0.0.1:8080`. */
  hubUrl: string;
  /** A publish key the hub was started with (`--publish-key`). */
  publishKey: string;
  /** Prefix of the ids this publisher gives its events; unique per app instance. */
  idPrefix: string;
  /** Wait between attempts while the hub is unreachable. Default 250 ms. */
  retryDelayMs?: number;
}

export class HttpPublisher {
  readonly #options: HttpPublisherOptions;
  readonly #queue: (OutgoingEvent & { id: string })[] = [];
  #sequence = 0;
  #flushing: Promise<void> | undefined;
  #closed = false;

  constructor(options: HttpPublisherOptions) {
    this.#options = options;
  }

  /** Events not yet accepted by the hub. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Queues an event and returns at once; the queue is sent in order, retried until the hub accepts it. */
  publish(event: OutgoingEvent): void {
    this.#queue.push({ ...event, id: `${this.#options.idPrefix}-${++this.#sequence}` });
    this.#flushing ??= this.#flush().finally(() => (this.#flushing = undefined));
  }

  /** Resolves once every queued event has been accepted (or the publisher was closed). */
  async idle(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
  }

  /** Stops retrying; events still queued are dropped. */
  close(): void {
    this.#closed = true;
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0 && !this.#closed) {
      // Everything queued goes in one request: the hub appends an array in order, all or nothing.
      const batch = this.#queue.slice(0, 100);
      if (await this.#send(batch)) this.#queue.splice(0, batch.length);
      else await new Promise((resolve) => setTimeout(resolve, this.#options.retryDelayMs ?? 250));
    }
  }

  async #send(batch: readonly (OutgoingEvent & { id: string })[]): Promise<boolean> {
    try {
      const response = await fetch(`${this.#options.hubUrl}/publish`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.#options.publishKey}` },
        body: JSON.stringify(batch),
      });
      await response.body?.cancel();
      if (response.ok) return true;
      // A 4xx other than 429 is the app's bug (a bad topic, too large): retrying cannot fix it.
      if (response.status >= 400 && response.status < 500 && response.status !== 429) {
        process.stderr.write(`publish refused with ${response.status}; dropping ${batch.length} event(s)\n`);
        return true;
      }
      return false;
    } catch {
      return false;
    }
  }
}
