import { matchTopic } from '@herald/protocol';
import { SubscriberLog } from '../subscriber-log.js';
import type { ChaosClient, ClientKind } from './client.js';
import { rawSseClient } from './raw-sse.js';
import { rawWsClient } from './raw-ws.js';
import { sdkClient } from './sdk.js';

/** Starts one subscriber of `kind` on `pattern` against `url()`. */
export function makeClient(kind: ClientKind, name: string, pattern: string, url: () => string, random: () => number): ChaosClient {
  const log = new SubscriberLog(name, pattern, (topic) => matchTopic(pattern, topic));
  switch (kind) {
    case 'raw-sse':
      return rawSseClient(url, log, random);
    case 'raw-ws':
      return rawWsClient(url, log, random);
    default:
      return sdkClient(kind, url(), log, random);
  }
}
