import type { Envelope, HeraldError, ResetReason } from '@herald/protocol';

/**
 * Where the client's connection stands.
 * - `idle`: nothing to do yet (no subscription), or every subscription was removed on SSE.
 * - `connecting`: opening a connection: the first one, or one opened on purpose
 *   (new topics over SSE, a switch back to WebSocket, `reconnect()`).
 * - `connected`: the hub said `connected`; events flow.
 * - `reconnecting`: the connection was lost or an attempt failed; waiting to retry, or retrying.
 * - `failed`: gave up (`maxAttempts` reached, or a refusal a retry cannot fix); `reconnect()` or the browser coming online starts again.
 * - `closed`: `close()` was called; final.
 */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

/**
 * Whether the hub is delivering: `paused` while the hub node cannot read its
 * event log (it sent `paused`; the connection stays open and nothing is lost:
 * events follow, or a `reset`, when it resumes), `live` otherwise.
 */
export type DeliveryState = 'live' | 'paused';

/**
 * An event as delivered to `onEvent`: the hub's envelope, with `data` typed by the
 * caller. `removed` is `true` when a filtered subscription receives a change
 * event that takes a row out of its view (docs/protocol.md, "Filters over change
 * events"); it is absent otherwise.
 */
export type HeraldEvent<Data = unknown> = Envelope<Data> & { removed?: true };

/**
 * Events on `topic` (the pattern as subscribed) may have been missed: reload state.
 * `unknown_id` and `expired` come from the hub (see protocol.md); `no_position`
 * comes from the client: the connection dropped before any event arrived and the
 * hub named no position in `connected` (a hub from before `connected.lastEventId`),
 * so there was nothing to resume from. Current hubs always name one.
 */
export interface ResetNotice {
  topic: string;
  reason: ResetReason | 'no_position';
}

/** Callbacks and position of one subscription. */
export interface SubscribeOptions<Data = unknown> {
  /** Every event on the subscription's topics, once each, in log order. */
  onEvent: (event: HeraldEvent<Data>) => void;
  /** The hub could not prove nothing was missed: reload the state this subscription feeds. */
  onReset?: (reset: ResetNotice) => void;
  /**
   * The hub holds the subscription: every event published from now on will arrive.
   * Called after the first connect and after every reconnect.
   */
  onSubscribed?: () => void;
  /** The hub refused the subscription (for example `forbidden`); it is retried on the next connection. */
  onError?: (error: HeraldError) => void;
  /**
   * Start after this event id (replaying what followed) instead of from now. Used
   * for the subscription's first request only: from then on the client resumes
   * from the last event it received. Over SSE a connection has one resume
   * position, so `since` applies only while the client has no last event id yet.
   */
  since?: string;
  /**
   * A filter over event data (docs/protocol.md section 2), applied by the hub:
   * `"data.session_id = 'abc' and data.resolved = false"`. A change event
   * (`data` and `old_data`) whose row leaves the filter arrives with
   * `removed: true`, and a delete matches on its old row. The hub filters per
   * connection and pattern, so subscriptions of one client that hold the same
   * pattern with different filters (or one without) share it unfiltered: each
   * then receives every event of that pattern (`@herald/react` filters again
   * locally, so its views stay exact). A filter the hub refuses fails this
   * subscription (`onError`, `invalid_filter`) over WebSocket, and the stream
   * over SSE, which carries one filter for all its topics.
   */
  filter?: string;
}

/** Events of {@link HeraldClient.on}. */
export interface ClientEvents {
  /** The connection state changed. */
  state: (state: ConnectionState, previous: ConnectionState) => void;
  /** A refusal the client cannot retry (the state is `failed`), or a subscription error without `onError`. */
  error: (error: HeraldError) => void;
  /** Delivery paused (the hub's log is unavailable) or live again; never seen by `onEvent`. */
  delivery: (delivery: DeliveryState) => void;
}
