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
 */
export async function subscribe(
  deps: SubscribeDeps,
  connection: Connection,
  patterns: readonly string[],
  since: string | undefined,
  announce: (outcome: SubscribeOutcome) => void,
  filter?: EventFilter,
): Promise<void> {
  const previous = [...connection.topics];
  const added = patterns.filter((pattern) => !connection.topics.has(pattern));
  connection.beginReplay();
  try {
    // A request's filter (or its absence) applies to every pattern it names, held or new.
    for (const pattern of patterns) {
      if (filter !== undefined) connection.filters.set(pattern, filter);
      else connection.filters.delete(pattern);
    }
    for (const pattern of added) {
      connection.topics.add(pattern);
      deps.index.add(pattern, connection);
    }
    const head = deps.broker.head();
    const position = deps.broker.positionId(head);
    if (since === undefined) {
      announce({ resumed: false, lastEventId: position });
      return;
    }
    const result = await deps.broker.read(since, head);
    if (connection.closed) return;
    if (!result.ok) {
      announce({ resumed: false, reset: result.reason, lastEventId: position });
      const last = added[added.length - 1];
      for (const topic of added) connection.sendControl({ type: 'reset', topic, reason: result.reason }, topic === last ? position : undefined);
      deps.metrics.reset(result.reason);
      return;
    }
    announce({ resumed: true, lastEventId: since });
    connection.skipLiveThrough(result.after);
    await connection.replay(result.events, (event) => connection.accepts(event, added) && !connection.accepts(event, previous));
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
