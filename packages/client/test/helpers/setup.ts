/**
 * Helpers for integration tests of the client against a real hub (port 0). They
 * reuse the server's test helpers so hubs are started the same way everywhere.
 */
import WebSocket from 'ws';
import { createClient, type ClientOptions, type HeraldClient, type SubscribeOptions, type WebSocketConstructor } from '../../src/index.js';

export { startHub, sleep, waitUntil, type RunningHub } from '../../../server/test/helpers/hub.js';
export { CuttableProxy } from '../../../server/test/helpers/proxy.js';
export { seededRandom, testSeed } from '../../../server/test/helpers/random.js';

/** Node 20 has no global WebSocket: tests give the client the `ws` package's. */
export const NodeWebSocket = WebSocket as unknown as WebSocketConstructor;

/** A client with fast backoff, for tests that make it reconnect many times. */
export function testClient(options: ClientOptions): HeraldClient {
  return createClient({ WebSocket: NodeWebSocket, backoff: { initial: 20, cap: 200 }, connectTimeout: 3000, ...options });
}

/**
 * Subscribes and resolves once the hub has confirmed the subscription: events
 * published before that are not the client's to receive.
 */
export function subscribeAndWait(client: HeraldClient, topics: string | string[], options: SubscribeOptions<any>): Promise<() => void> {
  return new Promise((resolve) => {
    let unsubscribe: () => void = () => undefined;
    let done = false;
    unsubscribe = client.subscribe(topics, {
      ...options,
      onSubscribed: () => {
        options.onSubscribed?.();
        if (!done) {
          done = true;
          queueMicrotask(() => resolve(unsubscribe));
        }
      },
    });
  });
}

/** Publishes `count` events on `topic` from inside the hub process, in batches of random size; returns their ids in log order. */
export async function publishBatches(
  hub: { publish(input: Array<{ topic: string; type: string; data: unknown }>): Promise<Array<{ id: string }>> },
  topic: string,
  count: number,
  random: () => number,
  pause: () => Promise<void>,
): Promise<string[]> {
  const ids: string[] = [];
  while (ids.length < count) {
    const size = Math.min(count - ids.length, 1 + Math.floor(random() * 5));
    const batch = Array.from({ length: size }, (_, i) => ({ topic, type: 'tick', data: { n: ids.length + i } }));
    ids.push(...(await hub.publish(batch)).map((r) => r.id));
    await pause();
  }
  return ids;
}
