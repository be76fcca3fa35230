import { now } from './ledger.js';

/** One event as a subscriber saw it. */
export interface Received {
  key: string;
  id: string;
  at: number;
}

/** One `reset` (from the hub, or the SDK's own `no_position`). */
export interface ResetSeen {
  topic: string;
  reason: string;
  at: number;
  /** How many events the subscriber had received before it: the resume position was the last of those. */
  receivedBefore: number;
}

/**
 * What one subscriber saw, in arrival order. Clients fill it; the accounting
 * (accounting.ts) judges it against the ledger.
 */
export class SubscriberLog {
  readonly received: Received[] = [];
  readonly resets: ResetSeen[] = [];
  /** When the subscription was first confirmed (`connected`/`subscribed`/`onSubscribed`); events sent after it are expected. */
  startedAt: number | undefined;
  connections = 0;
  /** `paused` / `resumed` control messages seen (raw clients only: the SDK does not surface them). */
  paused = 0;
  resumed = 0;
  /** Failures of the client itself (bad frames, unexpected messages), for the report. */
  readonly notes: string[] = [];

  constructor(
    readonly name: string,
    /** The pattern it subscribes to; `matches` decides which ledger topics it covers. */
    readonly pattern: string,
    readonly matches: (topic: string) => boolean,
  ) {}

  /** The subscription is held by the hub (call on every confirmation; the first one counts). */
  confirmed(): void {
    this.connections += 1;
    if (this.startedAt === undefined) this.startedAt = now();
  }

  event(key: string, id: string): void {
    this.received.push({ key, id, at: now() });
  }

  reset(topic: string, reason: string): void {
    this.resets.push({ topic, reason, at: now(), receivedBefore: this.received.length });
  }

  note(text: string): void {
    if (this.notes.length < 20) this.notes.push(text);
  }

  /** The key of an envelope's data (`data.k`), or undefined for events the harness did not publish. */
  static keyOf(envelope: { data?: unknown }): string | undefined {
    const data = envelope.data as { k?: unknown } | null | undefined;
    return typeof data === 'object' && data !== null && typeof data.k === 'string' ? data.k : undefined;
  }
}
