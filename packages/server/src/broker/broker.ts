import { HeraldError, type ResetReason } from '@herald/protocol';
import type { LogEvent } from '../log-event.js';

/** An event as a publisher hands it to the log, already validated. */
export interface EventDraft {
  topic: string;
  type: string;
  data: unknown;
  /**
   * `data` as JSON, when validation serialized it already (to measure it); saves
   * serializing it again. Trusted as is: only the hub's own validation sets it, to
   * exactly `JSON.stringify(data)`. Brokers use it when present.
   */
  dataJson?: string;
  /** Publisher-supplied id; the log generates one when absent. */
  id?: string;
}

/** What the log did with one draft. */
export interface AppendResult {
  /** The event's id: the generated one, the publisher's, or for a duplicate the original's. */
  id: string;
  /** True when a publisher id was already in retained history, so nothing new was appended. */
  duplicate: boolean;
}

/**
 * Events after a resume id, or the reason the log cannot prove what came after it.
 * `after` is the position of the resume id itself: on a node whose tail has not yet
 * delivered that far, live events up to it are ones the client already has.
 */
export type ReadResult = { ok: true; events: LogEvent[]; after: string } | { ok: false; reason: ResetReason };

/**
 * Ids shaped like the ones hubs generate (ten lowercase hex digits, a dash, a
 * digit) are refused as publisher ids, so a publisher id can never be mistaken
 * for a log position on any broker.
 */
export const RESERVED_ID = /^[0-9a-f]{10}-[0-9]/;

/** Throws `invalid_id` (appending nothing) when a draft's publisher id is reserved. */
export function assertPublisherIds(drafts: readonly EventDraft[]): void {
  for (const draft of drafts) {
    if (draft.id !== undefined && RESERVED_ID.test(draft.id)) {
      throw new HeraldError('invalid_id', 'ids of ten hex digits, a dash and a digit are reserved for ids the hub generates');
    }
  }
}

/**
 * Receives the log's events in order, in batches. `gap` is set when this node
 * missed events before this batch (which may be empty), so what its live
 * subscribers received is incomplete: `expired` when retention removed entries
 * this node never read (it stalled, was cut off, or fell behind), `unknown_id`
 * when the log's history was lost (a new epoch: Redis restarted empty or was wiped).
 */
export type TailListener = (events: readonly LogEvent[], gap?: ResetReason) => void;

/**
 * Whether the log can deliver: `unavailable` when this node cannot read or
 * write it (Redis down, stalled or partitioned), `available` when delivery
 * continues.
 */
export type BrokerStatus = 'available' | 'unavailable';

/** Receives a broker's status changes (see {@link Broker.start}). */
export type StatusListener = (status: BrokerStatus) => void;

/**
 * The hub's one totally ordered, bounded event log. Implementations: MemoryBroker
 * (single node) and, later, a Redis one; test/broker-contract.ts is the contract
 * every implementation must pass.
 *
 * What the hub may trust:
 * - `append` resolves only after the log holds every appended event; it appends
 *   a batch in order and in one step, and rejects the whole batch (appending
 *   nothing) when it cannot.
 * - The tail listener receives every appended event exactly once per node, in
 *   log order, including events appended by other nodes.
 * - `head()` is the position of the last event already passed to the tail listener,
 *   so a subscriber registered before reading `head()` gets every later event
 *   live and `read(since, head)` covers the rest without overlap.
 */
export interface Broker {
  /** Short name for logs and /readyz, such as "memory". */
  readonly name: string;

  /**
   * Connects and starts delivering the log's new events to `listener`. Called once.
   * A broker starts `available`; `status`, when given, hears each change after
   * that, never the same status twice in a row. Before it reports `available`
   * again the broker has checked whether events were missed meanwhile and, if so,
   * passed that gap to `listener` first, so a hub can send its `reset`s before
   * telling subscribers delivery resumed. MemoryBroker never becomes unavailable.
   */
  start(listener: TailListener, status?: StatusListener): Promise<void>;

  /**
   * Appends drafts in order. A draft whose publisher id is already in retained
   * history is not appended again; its result carries the original id and `duplicate: true`.
   * Rejects with a HeraldError (`invalid_id`, `broker_unavailable`) only when
   * nothing was appended and nothing can be appended later (a refused publish is
   * never published after the fact), and with `outcome_unknown` when the broker
   * cannot tell whether the batch was appended (a retry with the same publisher
   * ids is then safe).
   */
  append(drafts: readonly EventDraft[]): Promise<AppendResult[]>;

  /**
   * Position of the last event passed to the tail listener (see LogEvent.position),
   * or null when the log held nothing when this node started and nothing since.
   */
  head(): string | null;

  /**
   * Retained events strictly after the event id `after` up to and including the
   * position `until` from `head()` (null: nothing), in log order; or `unknown_id` / `expired` when the log
   * cannot prove it still holds every event after `after`.
   */
  read(after: string, until: string | null): Promise<ReadResult>;

  /** True while the log accepts appends (and, for a shared log, while it is `available`). */
  isReady(): boolean;

  /** Stops the tail and releases connections and timers. */
  close(): Promise<void>;
}
