import assert from 'node:assert/strict';
import { publish, type RunningHub } from './hub.js';
import { RawReader, type ReadPace } from './raw-reader.js';

/** Every event published to one topic through `publishBulk`, in log order. */
export class BulkTopic {
  readonly ids: string[] = [];
  readonly #running: () => RunningHub;
  readonly #topic: string;
  readonly #pad: string;

  /** `running` is read lazily, so a BulkTopic can be made before the hub starts. */
  constructor(running: () => RunningHub, topic: string, padBytes: number) {
    this.#running = running;
    this.#topic = topic;
    this.#pad = 'x'.repeat(padBytes);
  }

  /** Publishes `count` events in batches of up to 1,000 (one POST each), recording their ids. */
  async publish(count: number): Promise<void> {
    for (let done = 0; done < count; done += 1000) {
      const size = Math.min(1000, count - done);
      const events = Array.from({ length: size }, (_, n) => ({ topic: this.#topic, data: { n: this.ids.length + n, pad: this.#pad } }));
      const { status, body } = await publish(this.#running().url, events);
      assert.equal(status, 201);
      this.ids.push(...(body.ids as string[]));
    }
  }

  /** Opens a raw reader that resumes the topic from its first event (so it is owed every later one). */
  resume(transport: 'sse' | 'sse-http1.0' | 'ws', pace: ReadPace): RawReader {
    const { port } = this.#running();
    const since = this.ids[0]!;
    if (transport === 'ws') return RawReader.ws(port, `/ws?topic=${this.#topic}&since=${encodeURIComponent(since)}`, pace);
    return RawReader.sse(port, `/events?topic=${this.#topic}`, pace, { 'Last-Event-ID': since }, 4096, transport === 'sse' ? '1.1' : '1.0');
  }
}
