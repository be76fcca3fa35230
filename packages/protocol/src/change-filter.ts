import type { EventFilter } from './filter.js';

/**
 * How one event reaches a filtered subscription:
 * - `deliver`: as published;
 * - `remove`: as a removal (the envelope with `"removed": true`): a row the
 *   subscriber's view held has changed so that it no longer matches;
 * - `skip`: not at all.
 */
export type FilterVerdict = 'deliver' | 'remove' | 'skip';

/**
 * The field a hub adds to an event that reaches a subscriber as a removal. The
 * rest of the envelope (id, topic, type, data) is the event as published, so the
 * subscriber still sees the new row and resumes from the same id.
 */
export const REMOVED_FIELD = 'removed';

/** The envelope of an event that reached its subscriber as a removal. */
export interface Removal {
  readonly removed: true;
}

/** True when a delivered event is a removal (see {@link judgeEvent}). */
export function isRemoval(event: object): event is Removal {
  return (event as Record<string, unknown>)[REMOVED_FIELD] === true;
}

/** True for JSON objects (not arrays, not null). */
function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when a row is there (change events carry `null` for the side that has none). */
function present(row: unknown): boolean {
  return row !== null && row !== undefined;
}

/**
 * True when event data is a change event: an object with an own `old_data`
 * member next to `data` (the new row), as `herald pg triggers` publishes
 * (`{table, action, data, old_data, timestamp}`) and any publisher may.
 */
export function isChangeData(data: unknown): data is Record<string, unknown> & { data: unknown; old_data: unknown } {
  return isRecord(data) && Object.hasOwn(data, 'old_data');
}

/**
 * Judges one event for a filter. An ordinary event is delivered when the filter
 * accepts its data. A change event is judged on both rows, with the filter's
 * paths read as written (`data.session_id` names the row's field):
 *
 * - on its new row (`data`, when there is one): a match is delivered as is;
 * - otherwise on its old row (`old_data` in place of `data`): a match means the
 *   row was in the view, so a delete (no new row) is delivered as is and any
 *   other change as a removal, because the row has left the view;
 * - neither: skipped (the row was never in the view, nor is it now).
 *
 * Pure, so the hub (live and replay) and a client filtering locally agree.
 */
export function judgeEvent(filter: EventFilter, data: unknown): FilterVerdict {
  if (!isChangeData(data)) return filter(data) ? 'deliver' : 'skip';
  if (present(data.data) && filter(data)) return 'deliver';
  if (!present(data.old_data) || !filter({ ...data, data: data.old_data })) return 'skip';
  return present(data.data) ? 'remove' : 'deliver';
}
