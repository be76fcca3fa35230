import { createClient } from '@herald/client';
import WebSocket from 'ws';
import type { WebSocketConstructor } from '@herald/client';
import { SubscriberLog } from '../subscriber-log.js';
import type { ChaosClient, ClientKind } from './client.js';

/**
 * A subscriber built on the SDK (`createClient`), with the transport its kind names.
 * The SDK does its own resume, backoff and dedupe, so this measures what an app
 * using the SDK would see.
 */
export function sdkClient(kind: Extract<ClientKind, `sdk-${string}`>, url: string, log: SubscriberLog, random: () => number): ChaosClient {
  const transport = kind === 'sdk-ws' ? 'websocket' : kind === 'sdk-sse' ? 'sse' : 'auto';
  const client = createClient({
    url,
    transport,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    // Fast retries: the harness cuts connections every few hundred ms.
    backoff: { initial: 100, factor: 2, cap: 1000 },
    connectTimeout: 3000,
    // Back to WebSocket soon after a fallback to SSE, so `auto` exercises both.
    websocketRetryDelay: 2000,
    random,
  });
  client.on('error', (error) => log.note(`error: ${error.code} ${error.message}`));
  client.subscribe(log.pattern, {
    onEvent: (event) => {
      const key = SubscriberLog.keyOf(event);
      if (key !== undefined) log.event(key, event.id);
    },
    onReset: (reset) => log.reset(reset.topic, reset.reason),
    onSubscribed: () => log.confirmed(),
    onError: (error) => log.note(`subscription refused: ${error.code}`),
  });
  return {
    kind,
    log,
    close: async () => client.close(),
  };
}
