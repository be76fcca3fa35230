import type { HeraldEvent } from '@herald/client';
import { isChangeData, judgeEvent, type EventFilter } from '@herald/protocol';

/** A list item's key, as `getKey` returns it. */
export type ItemKey = string | number;

/** How events change a list: the settings of {@link applyEvent}. */
export interface ListRules<Item> {
  /** The key of an item (default: its `id` field). */
  getKey: (item: Item) => ItemKey;
  /** Events of other types; returns the new list (or the same one). */
  apply: ((items: Item[], event: HeraldEvent<unknown>) => Item[]) | undefined;
  /** The subscription's filter, applied again here (see {@link applyEvent}). */
  filter: EventFilter | undefined;
  /** New items go first rather than last. */
  prepend: boolean;
}

/** The default key: the item's `id` field. */
export function idOf(item: unknown): ItemKey {
  return (isObject(item) ? item['id'] : undefined) as ItemKey;
}

/**
 * Applies one event to a list, returning the same array when nothing changed.
 *
 * - A **change event** (`data` holding `data` and `old_data`, as `herald pg
 *   triggers` publishes): a new row upserts by key (replacing the old one, whose
 *   key is dropped if the row's key changed); no new row (a delete) removes the
 *   old row's key; a removal (`removed: true`) removes the row.
 * - `create`, `insert`, `update`: `data` is the item, upserted (`update` merges
 *   into the current item, so it may carry only the changed fields); with
 *   `removed: true` the item is removed instead.
 * - `delete`: `data` is the item, its key, or an array of keys or items (a bulk
 *   delete such as `[107, 108]`); every one named is removed.
 * - Anything else goes to `apply`.
 *
 * An item whose key is missing (`null` or `undefined`) is never added.
 *
 * With a filter, the event is first judged as the hub judges it (`judgeEvent`):
 * the hub filters per connection and pattern, and when subscriptions of one
 * client disagree on a pattern it sends that pattern unfiltered, so the list
 * keeps only its own view whatever the hub sent. Applying an event twice gives
 * the same list, which is what lets the store apply events that the load may
 * already reflect.
 */
export function applyEvent<Item>(items: Item[], event: HeraldEvent, rules: ListRules<Item>): Item[] {
  const verdict = rules.filter === undefined ? 'deliver' : judgeEvent(rules.filter, event.data);
  if (verdict === 'skip') return items;
  const removed = verdict === 'remove' || event.removed === true;
  const data = event.data;
  if (isChangeData(data)) {
    const row = data.data as Item | null | undefined;
    const old = data.old_data as Item | null | undefined;
    const gone = [old, removed ? row : undefined].filter(present).map(rules.getKey);
    if (removed || !present(row)) return without(items, gone, rules.getKey);
    const key = rules.getKey(row);
    return upsert(
      without(
        items,
        gone.filter((k) => !sameKey(k, key)),
        rules.getKey,
      ),
      row,
      rules,
      false,
    );
  }
  switch (event.type) {
    case 'create':
    case 'insert':
    case 'update':
      if (removed) return without(items, [rules.getKey(data as Item)], rules.getKey);
      return upsert(items, data as Item, rules, event.type === 'update');
    case 'delete':
      return without(
        items,
        (Array.isArray(data) ? data : [data]).map((one) => keyOf(one, rules.getKey)),
        rules.getKey,
      );
    default:
      return rules.apply === undefined ? items : rules.apply(items, event);
  }
}

// A bulk delete may name items by key (`[107, 108]`) or carry the items themselves.
function keyOf<Item>(named: unknown, getKey: (item: Item) => ItemKey): ItemKey {
  return typeof named === 'string' || typeof named === 'number' ? named : getKey(named as Item);
}

function upsert<Item>(items: Item[], item: Item, rules: ListRules<Item>, merge: boolean): Item[] {
  const key = rules.getKey(item);
  // An item without a key could never be updated or removed again: it is not kept.
  if (!present(key)) return items;
  const index = items.findIndex((current) => sameKey(rules.getKey(current), key));
  if (index < 0) return rules.prepend ? [item, ...items] : [...items, item];
  const next = [...items];
  const current = next[index];
  next[index] = merge && isObject(current) && isObject(item) ? ({ ...current, ...item } as Item) : item;
  return next;
}

function without<Item>(items: Item[], keys: readonly ItemKey[], getKey: (item: Item) => ItemKey): Item[] {
  if (keys.length === 0) return items;
  const next = items.filter((item) => !keys.some((key) => sameKey(getKey(item), key)));
  return next.length === items.length ? items : next;
}

// Keys compare as text: a bulk delete of [107] removes the item whose id is "107", and the other way round.
function sameKey(a: ItemKey | undefined, b: ItemKey | undefined): boolean {
  return present(a) && present(b) && (a === b || String(a) === String(b));
}

function present<T>(value: T | null | undefined): value is T {
  return value !== null && value !== undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
