import type { ConnectionState, HeraldError, HeraldEvent, SubscribeOptions } from '@herald/client';
import { judgeEvent, parseFilter } from '@herald/protocol';
import { useCallback, useEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import { useHeraldClient } from './context.js';
import { idOf } from './list-changes.js';
import { LiveListStore, type LiveListOptions, type LiveListSnapshot } from './live-list-store.js';

const noop = (): void => undefined;

/**
 * The client's connection state, for a status dot: `idle`, `connecting`,
 * `connected`, `reconnecting`, `failed` or `closed` (`idle` until a client exists).
 */
export function useConnectionState(): ConnectionState {
  const client = useHeraldClient();
  const subscribe = useCallback((onChange: () => void) => (client === undefined ? noop : client.on('state', onChange)), [client]);
  const read = (): ConnectionState => client?.state ?? 'idle';
  return useSyncExternalStore(subscribe, read, read);
}

/** Options of {@link useTopic} besides the event callback. */
export type UseTopicOptions = Omit<SubscribeOptions<unknown>, 'onEvent'>;

/**
 * Calls `onEvent` for every event on `topic` (a pattern, or several) while the
 * component is mounted. The latest `onEvent` is always used, so passing a new
 * function each render does not resubscribe; a new topic or `filter` does.
 *
 * With `filter`, events are also judged here as the hub judges them (the hub
 * sends a pattern unfiltered when subscriptions of one client disagree on its
 * filter): `onEvent` sees only the events the filter delivers, and a change
 * event whose row leaves the filter with `removed: true`. A filter that does not
 * parse reaches `onError` (`invalid_filter`) and subscribes to nothing.
 */
export function useTopic<Data = unknown>(topic: string | readonly string[], onEvent: (event: HeraldEvent<Data>) => void, options: UseTopicOptions = {}): void {
  const client = useHeraldClient();
  const latest = useRef({ onEvent, options });
  latest.current = { onEvent, options };
  const key = typeof topic === 'string' ? topic : topic.join('\n');
  const filter = options.filter;
  useEffect(() => {
    if (client === undefined) return undefined;
    const topics = key.split('\n');
    let accept;
    try {
      accept = filter === undefined ? undefined : parseFilter(filter);
    } catch (error) {
      latest.current.options.onError?.(error as HeraldError);
      return undefined;
    }
    return client.subscribe<Data>(topics, {
      onEvent: (event) => {
        const verdict = accept === undefined ? 'deliver' : judgeEvent(accept, event.data);
        if (verdict === 'skip') return;
        latest.current.onEvent(verdict === 'remove' && event.removed !== true ? { ...event, removed: true } : event);
      },
      onReset: (notice) => latest.current.options.onReset?.(notice),
      onSubscribed: () => latest.current.options.onSubscribed?.(),
      onError: (error) => latest.current.options.onError?.(error),
      ...(latest.current.options.since === undefined ? {} : { since: latest.current.options.since }),
      ...(filter === undefined ? {} : { filter }),
    });
  }, [client, key, filter]);
}

/** What {@link useLiveList} returns. */
export interface LiveListResult<Item> extends LiveListSnapshot<Item> {
  /** Loads the list again; events arriving meanwhile are kept. */
  reload: () => void;
}

/**
 * A list loaded from your API and kept live from a topic, by key (`getKey`,
 * default the item's `id`): Herald's change events (`insert`, `update`, `delete`
 * with `data` and `old_data`, as `herald pg triggers` publishes them) apply
 * their rows; `create`, `insert` and `update` events upsert their `data`;
 * `delete` removes its `data` (an item, a key, or an array of keys or items);
 * a removal (`removed: true`, a row leaving the `filter`) removes its row;
 * anything else goes to `apply`; a `reset` reloads. The load starts once the hub
 * has confirmed the subscription, with events buffered meanwhile, so nothing
 * published between the load and the subscription is lost (see {@link LiveListStore}).
 */
export function useLiveList<Item>(options: LiveListOptions<Item>): LiveListResult<Item> {
  const client = useHeraldClient();
  const latest = useRef(options);
  latest.current = options;
  const store = useMemo(
    () =>
      new LiveListStore<Item>({
        topic: options.topic,
        ...(options.filter === undefined ? {} : { filter: options.filter }),
        ...(options.prepend === undefined ? {} : { prepend: options.prepend }),
        load: () => latest.current.load(),
        getKey: (item) => (latest.current.getKey ?? idOf)(item),
        apply: (items, event) => latest.current.apply?.(items, event) ?? items,
      }),
    // A new client, topic or filter is a new list; the callbacks are read through `latest`.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [client, options.topic, options.filter],
  );
  useEffect(() => (client === undefined ? undefined : store.start(client)), [store, client]);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  return { ...snapshot, reload: store.reload };
}
