import type { EventFilter, ResetReason } from '@herald/protocol';
import type { Broker } from './broker/broker.js';
import type { HubMetrics } from './metrics.js';
import type { SubscriptionIndex } from './subscription-index.js';
import type { Connection } from './transport/connection.js';

/** How a subscription began: resumed with nothing missing, or not (and why, when a reset was sent). */
export interface SubscribeOutcome {
  resumed: boolean;
  reset?: ResetReason;
  /**
   * The connection's resume position (`connected.lastEventId`): `since` when it
   * resumed (a later one could skip a replay cut short), else the id of the head
   * captured in step 2, which covers everything the connection will receive.
   * After a reset it holds once the `reset`s are handled; SSE therefore puts it
   * in the `id:` field of the last `reset` instead of in `connected`.
   */
  lastEventId: string;
}

/** What the subscribe procedure needs from the hub. */
export interface SubscribeDeps {
  broker: Broker;
  index: SubscriptionIndex<Connection>;
  metrics: HubMetrics;
  /** True while the log is unavailable: a connection that starts now is told `paused` after `connected`. */
  readonly deliveryPaused: boolean;
  /** A gap the hub found while the connection was still opening, if any (taken once). */
  takeMissedGap(connection: Connection): ResetReason | undefined;
}

/**
 * Adds topic patterns to a connection and, with `since`, replays what it missed,
 * with no gap and no duplicate between history and live events:
 *
 * 1. register the patterns, so every event dispatched from now on reaches the
 *    connection (held back while the replay runs);
 * 2. capture the log head: everything after it will arrive live, so its
 *    `positionId` is a resume position for the connection even before any event;
 * 3. read the log from `since` up to that head and write the matching events;
 * 4. release the held-back live events.
 *
 * `announce` runs once the patterns are registered and the outcome is known, before
 * any replayed event: it writes `connected` (with the outcome's `lastEventId`) or
 * `subscribed`. When the log cannot
 * prove it holds everything after `since`, a `reset` per newly added pattern
 * follows and the connection continues live. Patterns the connection already held
 * are neither replayed nor reset: they have been live on this connection all along
 * (clients resume by naming all their topics in one request, as on reconnect).
 *
 * A connection that starts here (its `connected`) while the log is unavailable
 * gets `paused` right after it. If the hub found a gap while this ran, a `reset`
 * per newly added pattern follows (the replay ended before the gap).
 *
 * When it fails (the log cannot be read: `broker_unavailable`), it leaves the
 * connection exactly as it was (patterns, filters, index) and rethrows, so a
 * retry of the same request replays or resets as if it were the first.
 */
export async function subscribe(
  deps: SubscribeDeps,
  connection: Connection,
  patterns: readonly string[],
  since: string | undefined,
  announce: (outcome: SubscribeOutcome) => void,
  filter?: EventFilter,
  filtered?: readonly string[],
): Promise<void> {
  const previous = [...connection.topics];
  const added = patterns.filter((pattern) => !connection.topics.has(pattern));
  const previousFilters = patterns.map((pattern) => connection.filters.get(pattern));
  const opening = !connection.started;
  let announced = false;
  const begin = (outcome: SubscribeOutcome): void => {
    announced = true;
    announce(outcome);
    if (opening && connection.started && deps.deliveryPaused) connection.sendControl({ type: 'paused', reason: 'log_unavailable' });
  };
  connection.beginReplay();
  try {
    // A request's filter (or its absence) applies to every pattern it names, held or
    // new; with `filtered`, only to those (a connection's server-chosen topics are unfiltered).
    for (const pattern of patterns) {
      if (filter !== undefined && (filtered === undefined || filtered.includes(pattern))) connection.filters.set(pattern, filter);
      else connection.filters.delete(pattern);
    }
    for (const pattern of added) {
      connection.topics.add(pattern);
      deps.index.add(pattern, connection);
    }
    const head = deps.broker.head();
    const position = deps.broker.positionId(head);
    if (since === undefined) {
      // Nothing to resume, so nothing this connection had can be missing.
      deps.takeMissedGap(connection);
      begin({ resumed: false, lastEventId: position });
      return;
    }
    const result = await deps.broker.read(since, head);
    if (connection.closed) return;
    const missed = deps.takeMissedGap(connection);
    if (!result.ok || missed !== undefined) {
      const reason = result.ok ? missed! : result.reason;
      begin({ resumed: false, reset: reason, lastEventId: position });
      // SSE: the last reset carries the position as its `id:`, so EventSource only
      // moves past the loss once it has been told of it.
      const last = added[added.length - 1];
      for (const topic of added) connection.sendControl({ type: 'reset', topic, reason }, topic === last ? position : undefined);
      deps.metrics.reset(reason);
      return;
    }
    begin({ resumed: true, lastEventId: since });
    connection.skipLiveThrough(result.after);
    await connection.replay(result.events, (event) => connection.accepts(event, added) && !connection.accepts(event, previous));
  } catch (error) {
    if (!announced) {
      for (const pattern of added) {
        connection.topics.delete(pattern);
        deps.index.remove(pattern, connection);
      }
      patterns.forEach((pattern, i) => {
        const filter = previousFilters[i];
        if (filter === undefined) connection.filters.delete(pattern);
        else connection.filters.set(pattern, filter);
      });
    }
    throw error;
  } finally {
    connection.endReplay();
  }
}

/** Removes patterns from a connection; returns the ones it held. */
export function unsubscribe(deps: Pick<SubscribeDeps, 'index'>, connection: Connection, patterns: readonly string[]): string[] {
  const removed: string[] = [];
  for (const pattern of patterns) {
    if (!connection.topics.delete(pattern)) continue;
    connection.filters.delete(pattern);
    deps.index.remove(pattern, connection);
    removed.push(pattern);
  }
  return removed;
}
