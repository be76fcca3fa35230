import type { HeraldClient, HeraldEvent, ResetNotice } from '@herald/client';
import { parseFilter } from '@herald/protocol';
import { applyEvent, idOf, type ItemKey, type ListRules } from './list-changes.js';

/** What `load` may return: the items, or the items and the id of the last event they reflect. */
export type LoadResult<Item> = Item[] | { items: Item[]; lastEventId?: string };

/** Options of {@link useLiveList}. */
export interface LiveListOptions<Item> {
  /** Topic pattern whose events change the list. */
  topic: string;
  /**
   * A filter over event data (docs/protocol.md section 2), sent to the hub and
   * applied again here, so the list holds exactly the rows it accepts: a row
   * that stops matching is removed, a delete matches on its old row. `load`
   * should return the rows of the same view. A filter that does not parse puts
   * the list in `error` (with an `invalid_filter` HeraldError) and subscribes to nothing.
   */
  filter?: string;
  /** Fetches the whole list (from your API). Called once the subscription is live, and again after a `reset` or `reload()`. */
  load: () => Promise<LoadResult<Item>>;
  /**
   * The key identifying an item, also read from the rows of change events and
   * from `create`/`insert`/`update`/`delete` event data. Default: the item's `id`.
   */
  getKey?: (item: Item) => ItemKey;
  /**
   * Applies events that are neither change events nor of type `create`, `insert`,
   * `update` or `delete`; returns the new list (or the same one). Default: such
   * events are ignored.
   */
  apply?: (items: Item[], event: HeraldEvent<unknown>) => Item[];
  /** New items go first (a newest-first list) rather than last. Default false. */
  prepend?: boolean;
}

/**
 * `subscribing`: waiting for the hub to confirm the subscription; `loading`: `load`
 * is running (items, if any, are the previous ones); `ready`: loaded and live;
 * `error`: `load` failed (see `error`; call `reload()`).
 */
export type LiveListState = 'subscribing' | 'loading' | 'ready' | 'error';

/** A snapshot of a live list. */
export interface LiveListSnapshot<Item> {
  items: Item[];
  state: LiveListState;
  error: unknown;
}

/**
 * A list kept in step with a topic, without a gap between load and subscribe:
 *
 * 1. subscribe, and wait until the hub confirms it, so every event published from
 *    then on will arrive;
 * 2. call `load`, buffering the events that arrive meanwhile;
 * 3. apply the buffered events to the loaded items (skipping those up to the
 *    `lastEventId` that `load` may return), then apply events as they come.
 *
 * An event published before the load read its data may be applied on top of data
 * that already reflects it, so `create` and `update` upsert and `delete` ignores
 * missing items: applying an event twice gives the same list. A `reset` (events may
 * have been missed) reloads. How each event changes the list: {@link applyEvent}.
 */
export class LiveListStore<Item> {
  #snapshot: LiveListSnapshot<Item> = { items: [], state: 'subscribing', error: undefined };
  readonly #listeners = new Set<() => void>();
  readonly #options: LiveListOptions<Item>;
  readonly #rules: ListRules<Item>;
  // Set when the filter does not parse: the store then never subscribes.
  #invalid = false;
  #buffer: HeraldEvent[] | undefined;
  #loads = 0;
  #live = false;
  #stop: (() => void) | undefined;

  constructor(options: LiveListOptions<Item>) {
    this.#options = options;
    const getKey = options.getKey ?? (idOf as (item: Item) => ItemKey);
    this.#rules = { getKey, apply: options.apply, filter: undefined, prepend: options.prepend === true };
    try {
      if (options.filter !== undefined) this.#rules.filter = parseFilter(options.filter);
    } catch (error) {
      this.#invalid = true;
      this.#snapshot = { items: [], state: 'error', error };
    }
  }

  /** Starts following the topic on `client`; returns the function that stops. */
  start(client: Pick<HeraldClient, 'subscribe'>): () => void {
    // A filter that does not parse: nothing to follow (the snapshot says why).
    if (this.#invalid) return () => undefined;
    const { topic, filter } = this.#options;
    this.#stop = client.subscribe(topic, {
      ...(filter === undefined ? {} : { filter }),
      onEvent: (event) => this.#event(event),
      // The hub refused the subscription (a filter it rejects, a topic not allowed).
      onError: (error) => this.#set({ state: 'error', error }),
      onReset: (_notice: ResetNotice) => this.reload(),
      onSubscribed: () => {
        // Reconnects resume (or reset); only the first confirmation needs a load.
        if (this.#live) return;
        this.#live = true;
        this.reload();
      },
    });
    return () => {
      this.#loads++;
      this.#live = false;
      this.#buffer = undefined;
      this.#stop?.();
      this.#stop = undefined;
    };
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  };

  readonly getSnapshot = (): LiveListSnapshot<Item> => this.#snapshot;

  /** Loads the list again (once the subscription is live), keeping events that arrive meanwhile. */
  readonly reload = (): void => {
    if (!this.#live || this.#stop === undefined) return;
    const load = ++this.#loads;
    this.#buffer = [];
    this.#set({ state: 'loading' });
    Promise.resolve()
      .then(() => this.#options.load())
      .then(
        (result) => {
          if (load !== this.#loads) return;
          const { items, lastEventId } = Array.isArray(result) ? { items: result, lastEventId: undefined } : result;
          let buffered = this.#buffer ?? [];
          this.#buffer = undefined;
          const reflected = lastEventId === undefined ? -1 : buffered.findIndex((e) => e.id === lastEventId);
          buffered = buffered.slice(reflected + 1);
          this.#set({ items: buffered.reduce((list, event) => this.#apply(list, event), [...items]), state: 'ready', error: undefined });
        },
        (error: unknown) => {
          if (load !== this.#loads) return;
          // Keep what we have and stay live; the app decides when to retry.
          const buffered = this.#buffer ?? [];
          this.#buffer = undefined;
          this.#set({ items: buffered.reduce((list, event) => this.#apply(list, event), this.#snapshot.items), state: 'error', error });
        },
      );
  };

  #event(event: HeraldEvent): void {
    if (this.#buffer !== undefined) {
      this.#buffer.push(event);
      return;
    }
    const items = this.#apply(this.#snapshot.items, event);
    if (items !== this.#snapshot.items) this.#set({ items });
  }

  #apply(items: Item[], event: HeraldEvent): Item[] {
    return applyEvent(items, event, this.#rules);
  }

  #set(patch: Partial<LiveListSnapshot<Item>>): void {
    this.#snapshot = { ...this.#snapshot, ...patch };
    for (const listener of [...this.#listeners]) listener();
  }
}
