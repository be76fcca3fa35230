import type pg from 'pg';
import type { Logger } from 'pino';
import { MemoryBroker, type RestoredEvent } from '../broker/memory.js';
import type { Hub } from '../hub.js';
import { toDraft } from '../publish-input.js';

interface RelayedRow {
  id: string;
  topic: string;
  type: string;
  data: unknown;
  /** created_at in milliseconds since the epoch. */
  created: number;
}

/**
 * Refills an in-memory log that a restart emptied from the outbox's retained rows,
 * so a client resuming from an `outbox-…` id is not reset by the restart.
 *
 * Only when the hub's log is a MemoryBroker that has never held an event: a shared
 * log (Redis) keeps its own history, and a log that already holds events has a
 * history the refill would contradict. Loads the newest rows already relayed
 * (`seq <= cursor`) and published (`error IS NULL`), at most `historySize`, none
 * older than `historyMaxAge`, oldest first, with their ids `outbox-<row id>` and
 * their `created_at` as time. What it loads is one unbroken run of commit order
 * ending at the cursor: at the first row (from the newest) that is too old, or that
 * today's limits would refuse, it stops, because a client resuming from a row before
 * such a hole would silently miss the row in it. Returns how many events it loaded.
 *
 * Called by the relay before it relays anything new, with the schema it resolved
 * (quoted); new rows then follow in commit order.
 */
export async function refillMemoryLog(client: pg.Client, schema: string, hub: Hub, log: Logger | undefined): Promise<number> {
  const broker = hub.broker;
  if (!(broker instanceof MemoryBroker) || broker.head() !== null) return 0;
  const { historySize, historyMaxAge, maxEventBytes } = hub.options;
  const { rows } = await client.query<RelayedRow>(
    `SELECT o.id::text AS id, o.topic, o.type, o.data, (extract(epoch FROM o.created_at) * 1000)::float8 AS created
     FROM ${schema}.herald_outbox o, ${schema}.herald_outbox_cursor c
     WHERE c.name = 'relay' AND o.seq <= c.last_seq AND o.error IS NULL
     ORDER BY o.seq DESC LIMIT $1`,
    [historySize],
  );
  const cutoff = Date.now() - historyMaxAge;
  const events: RestoredEvent[] = [];
  for (const row of rows) {
    if (row.created < cutoff) break;
    let event: RestoredEvent;
    try {
      const draft = toDraft({ topic: row.topic, type: row.type, data: row.data }, maxEventBytes);
      event = { topic: draft.topic, type: draft.type, data: draft.data, id: `outbox-${row.id}`, acceptedAt: Math.floor(row.created) };
      if (draft.dataJson !== undefined) event.dataJson = draft.dataJson;
    } catch (error) {
      log?.warn({ err: error, id: row.id }, 'outbox relay: a relayed row no longer passes validation; the refilled history starts after it');
      break;
    }
    events.push(event);
  }
  events.reverse();
  // Something was appended while the rows were read (an embedder publishing before
  // awaiting relay.start()): its history is not the outbox's any more.
  if (broker.head() !== null) {
    log?.warn('outbox relay: the log received events before the refill finished; history not refilled');
    return 0;
  }
  broker.restore(events);
  return events.length;
}
