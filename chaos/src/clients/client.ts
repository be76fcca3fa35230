import type { SubscriberLog } from '../subscriber-log.js';

/** The kinds of subscriber the harness drives. */
export type ClientKind = 'sdk-ws' | 'sdk-sse' | 'sdk-auto' | 'raw-sse' | 'raw-ws';

/** Every kind, in report order. */
export const CLIENT_KINDS: readonly ClientKind[] = ['sdk-ws', 'sdk-sse', 'sdk-auto', 'raw-sse', 'raw-ws'];

/** A running subscriber: it reconnects on its own until closed. */
export interface ChaosClient {
  readonly kind: ClientKind;
  readonly log: SubscriberLog;
  close(): Promise<void>;
}

/** Delay before a raw client reconnects, ms: short, so cuts cost little, but never a busy loop. */
export function reconnectDelay(random: () => number): number {
  return 50 + Math.floor(random() * 200);
}
