import { HeraldError, type ResetReason } from '@herald/protocol';
import type { LogEvent } from '../encoding/log-event.js';

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

/** How long a lease lasts without renewal unless a caller asks otherwise, in milliseconds. */
export const LEASE_TTL_MS = 3000;

/** Settings of one {@link Lease}. */
export interface LeaseOptions {
  /**
   * How long a claim lasts without renewal, in milliseconds; the holder renews every
   * third of it, and a dead holder's lease is taken over within about this long.
   * Default {@link LEASE_TTL_MS} (3,000). Brokers of a single node ignore it.
   */
  ttlMs?: number;
  /**
   * Whether this node can do the leased work right now (say, its source connection
   * is up). While false the lease is neither taken nor kept, so a node that could
   * act takes over. Default: always. Brokers of a single node ignore it.
   */
  eligible?: () => boolean;
  /** Told `true` when the lease is taken and `false` when it is lost or released; never for the initial "not held". */
  onChange?: (held: boolean) => void;
}

/**
 * An exclusive, expiring role (such as "the node that bridges channel c") among
 * every node sharing one log. Obtained from {@link Broker.lease}.
 */
export interface Lease {
  /** The name it was taken under. */
  readonly name: string;
  /**
   * True while this holder may act. Ask at each action: it turns false by itself,
   * from the local monotonic clock, before the claim could lapse in the shared store.
   */
  held(): boolean;
  /** Settles (never rejects) once the first attempt to take the lease has been answered or has failed. */
  readonly ready: Promise<void>;
  /** Stops renewing and gives the lease up, so another node can take it at its next try. Idempotent. */
  release(): Promise<void>;
}

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
   * or null when the log held nothing when this node started and nothing since. (A
   * log emptied by retention may start at the position of its last removed event.)
   */
  head(): string | null;

  /**
   * The resume id naming a log position (from `head()`; null: before the first event
   * of an empty log), which `read()` accepts like an event id: "everything up to
   * here". It names the position, not the event there, so it is valid whatever id
   * that event carries (a publisher's or none). The hub sends it in `connected`, so a
   * connection has a resume position before its first event.
   */
  positionId(position: string | null): string;

  /**
   * Retained events strictly after `after` (an event id or a `positionId()`) up to and
   * including the position `until` from `head()` (null: nothing), in log order; or
   * `unknown_id` / `expired` when the log cannot prove it still holds every event after `after`.
   */
  read(after: string, until: string | null): Promise<ReadResult>;

  /**
   * An exclusive role among every node sharing this log, for work only one of them
   * may do (bridging a pub/sub channel that reaches all of them). What may be trusted:
   * - At most one holder at a time: among all leases of one name on every broker
   *   sharing the log, at most one `held()` is true at any instant, as long as the
   *   clocks involved (each node's monotonic clock and the store's expiry clock) run
   *   within 1% of each other's rate and the store's clock is never stepped.
   * - A holder that cannot renew stops acting before its lease can lapse: `held()`
   *   turns false on its own once the last confirmed claim, counted from when it was
   *   sent and less the drift margin, runs out; no callback or timer is needed.
   * - Takeover: when a holder dies without releasing, another eligible lease of the
   *   name becomes held within `ttlMs` (plus a round trip) of the holder's last renewal;
   *   after `release()`, within a third of `ttlMs`.
   * - No fencing: an action begun while held (an append in flight) may complete after
   *   `held()` turned false, so keep actions short or idempotent.
   * A log owned by one node (MemoryBroker) grants each name to one lease at a time in
   * process, at once. Throws TypeError for an empty name; RedisBroker also before
   * start() and after close(). close() releases the leases still open.
   */
  lease(name: string, options?: LeaseOptions): Lease;

  /** True while the log accepts appends (and, for a shared log, while it is `available`). */
  isReady(): boolean;

  /** Stops the tail and releases connections and timers. */
  close(): Promise<void>;
}
