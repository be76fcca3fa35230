import { assertTopicPattern, HeraldError, matchTopic } from '@herald/protocol';
import { guarded } from './emitter.js';
import type { HeraldEvent, ResetNotice, SubscribeOptions } from './types.js';

/** One `subscribe()` call: its patterns, callbacks and starting position. */
export interface Subscription {
  readonly patterns: readonly string[];
  // Any data type: each subscription's callbacks take the type its caller chose, which the registry does not track.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly options: SubscribeOptions<any>;
  /** True once the hub has confirmed it at least once; from then on it resumes from the client's last event id. */
  confirmed: boolean;
  /** Set when it is being subscribed again with no position to resume from: it gets a `reset` once confirmed. */
  resetOnConfirm?: boolean;
}

/** Validates the arguments of `subscribe()` (a bad pattern throws `invalid_topic`) and makes the subscription. */
export function newSubscription<Data>(topics: string | readonly string[], options: SubscribeOptions<Data>): Subscription {
  const patterns = [...new Set(typeof topics === 'string' ? [topics] : topics)];
  if (patterns.length === 0) throw new HeraldError('invalid_topic', 'subscribe() needs at least one topic');
  for (const pattern of patterns) assertTopicPattern(pattern);
  if (typeof options?.onEvent !== 'function') throw new TypeError('herald client: subscribe() needs an onEvent function');
  return { patterns, options, confirmed: false };
}

/** A group of subscriptions sent in one request because they start from the same position. */
export interface SubscriptionGroup {
  since: string | undefined;
  subscriptions: Subscription[];
  patterns: string[];
}

/** The client's subscriptions, and how events, resets and confirmations reach them. */
export class Subscriptions {
  readonly #all = new Set<Subscription>();

  add(subscription: Subscription): void {
    this.#all.add(subscription);
  }

  /** Returns false when it was already removed. */
  remove(subscription: Subscription): boolean {
    return this.#all.delete(subscription);
  }

  get size(): number {
    return this.#all.size;
  }

  /** Every subscription, in the order added. */
  list(): Subscription[] {
    return [...this.#all];
  }

  /**
   * The filter the hub applies to `pattern` (default: to a whole SSE stream): the
   * one filter every subscription holding it shares, else none, since the hub
   * keeps one filter per connection and pattern and no subscription may miss an
   * event it asked for.
   */
  hubFilter(pattern?: string): string | undefined {
    const filters = new Set<string | undefined>();
    for (const s of this.#all) if (pattern === undefined || s.patterns.includes(pattern)) filters.add(s.options.filter);
    return filters.size === 1 ? [...filters][0] : undefined;
  }

  /** Every pattern held by some subscription, each once, in the order first subscribed. */
  patterns(): string[] {
    return unique([...this.#all].flatMap((s) => s.patterns));
  }

  /** Hands an event to every subscription with a matching pattern (once per subscription). */
  dispatch(event: HeraldEvent): void {
    for (const subscription of [...this.#all]) {
      if (!subscription.patterns.some((pattern) => matchTopic(pattern, event.topic))) continue;
      // Skip subscriptions removed by an earlier callback for this same event.
      if (this.#all.has(subscription)) guarded(() => subscription.options.onEvent(event));
    }
  }

  /** Hands a `reset` to the subscriptions holding that pattern. */
  reset(notice: ResetNotice): void {
    for (const subscription of [...this.#all]) {
      if (subscription.patterns.includes(notice.topic)) guarded(() => subscription.options.onReset?.(notice));
    }
  }

  /** Marks subscriptions as held by the hub and tells them. */
  confirm(subscriptions: Iterable<Subscription>): void {
    for (const subscription of subscriptions) {
      if (!this.#all.has(subscription)) continue;
      subscription.confirmed = true;
      guarded(() => subscription.options.onSubscribed?.());
      if (subscription.resetOnConfirm !== true) continue;
      subscription.resetOnConfirm = false;
      // Like the hub, one reset per pattern, after the confirmation.
      for (const topic of subscription.patterns) guarded(() => subscription.options.onReset?.({ topic, reason: 'no_position' }));
    }
  }

  /**
   * Marks the subscriptions that were held before but will be subscribed again
   * from no position (the connection dropped before any event arrived): events
   * published in between cannot be replayed, so they must reload.
   */
  markUnresumable(position: (subscription: Subscription) => string | undefined): void {
    for (const subscription of this.#all) {
      if (subscription.confirmed && position(subscription) === undefined) subscription.resetOnConfirm = true;
    }
  }

  /**
   * Where a new SSE stream resumes (one position per stream): the client's last event id, else the first `since` a
   * subscription gave. A WebSocket connection resumes the hub's server-chosen topics from the last event id in its
   * URL instead; its own subscribes carry their own `since`.
   */
  streamSince(lastEventId: string | undefined): string | undefined {
    return lastEventId ?? this.list().find((s) => s.options.since !== undefined)?.options.since;
  }

  /** Tells subscriptions the hub refused them; returns the ones without an `onError`. */
  refuse(subscriptions: Iterable<Subscription>, error: HeraldError): Subscription[] {
    const unhandled: Subscription[] = [];
    for (const subscription of subscriptions) {
      if (!this.#all.has(subscription)) continue;
      const onError = subscription.options.onError;
      if (onError === undefined) unhandled.push(subscription);
      else guarded(() => onError(error));
    }
    return unhandled;
  }

  /** The subscriptions among `subscriptions` that are still present. */
  live(subscriptions: Iterable<Subscription>): Subscription[] {
    return [...subscriptions].filter((s) => this.#all.has(s));
  }

  /**
   * Groups subscriptions by where they start: the client's last event id for every
   * subscription once there is one (so a reconnect resumes everything in one
   * request, in one ordered replay), else each subscription's own `since`.
   */
  groups(lastEventId: string | undefined, among: Iterable<Subscription> = this.#all): SubscriptionGroup[] {
    const bySince = new Map<string | undefined, Subscription[]>();
    for (const subscription of among) {
      const since =
        lastEventId !== undefined && (subscription.confirmed || subscription.options.since === undefined) ? lastEventId : subscription.options.since;
      const list = bySince.get(since);
      if (list === undefined) bySince.set(since, [subscription]);
      else list.push(subscription);
    }
    return [...bySince].map(([since, subscriptions]) => ({ since, subscriptions, patterns: unique(subscriptions.flatMap((s) => s.patterns)) }));
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
