import { clientActionOf, HeraldError, isErrorCode } from '@herald/protocol';
import type { Subscription, Subscriptions } from './subscriptions.js';

/** What subscription sync needs from the client. */
export interface SyncLink {
  /** Sends a message on the current connection. */
  send(message: object): void;
  /** The ref for the next request on the connection (shared with token refresh, so replies never collide). */
  nextRef(): number;
  /** The client's resume position. */
  lastEventId(): string | undefined;
  /** A refused subscription that has no `onError` of its own. */
  reportError(error: HeraldError): void;
}

/** How the client goes on after the hub refused a `subscribe`. */
export type Refusal = 'handled' | 'reconnect';

/**
 * Keeps the hub's topics on the current connection in step with the client's
 * subscriptions: over WebSocket by `subscribe` and `unsubscribe` requests and
 * their replies, over SSE (whose topics are fixed per stream) by telling the
 * client whether the stream still carries the wanted topics.
 */
export class SubscriptionSync {
  readonly #subscriptions: Subscriptions;
  readonly #link: SyncLink;
  /**
   * SSE: the topics of the current stream. WebSocket: patterns subscribed on the
   * current connection. Each with the filter the hub holds for it.
   */
  #held = new Map<string, string | undefined>();
  /**
   * WebSocket `subscribe` requests in flight: ref to the subscriptions asked for.
   * Keyed by whatever ref a reply echoes: ours are numbers, so no other value matches.
   */
  readonly #requests = new Map<unknown, Subscription[]>();

  constructor(subscriptions: Subscriptions, link: SyncLink) {
    this.#subscriptions = subscriptions;
    this.#link = link;
  }

  /** A new connection (or none): it holds `topics` (an SSE stream's, with its `filter`) and nothing is asked yet. */
  restart(topics: readonly string[] = [], filter?: string): void {
    this.#held = new Map(topics.map((topic) => [topic, filter]));
    this.#requests.clear();
  }

  /** SSE: true when the current stream carries exactly the wanted patterns, with the wanted filter. */
  streamCarries(wanted: readonly string[], filter: string | undefined): boolean {
    return wanted.length === this.#held.size && wanted.every((p) => this.#held.has(p) && this.#held.get(p) === filter);
  }

  // WebSocket: true when the connection holds `pattern` with the filter its subscriptions now call for.
  #holds(pattern: string): boolean {
    return this.#held.has(pattern) && this.#held.get(pattern) === this.#subscriptions.hubFilter(pattern);
  }

  /** SSE `connected`: the stream holds every subscription whose patterns it carries. */
  confirmStream(): void {
    const held = this.#held;
    this.#subscriptions.confirm(this.#subscriptions.list().filter((s) => s.patterns.every((p) => held.has(p))));
  }

  /**
   * WebSocket: unsubscribes patterns no longer wanted and subscribes the
   * subscriptions the connection does not hold yet. `fresh` is the first sync of
   * a new connection, which resumes every subscription.
   */
  syncWebSocket(fresh: boolean): void {
    const wanted = this.#subscriptions.patterns();
    const gone = [...this.#held.keys()].filter((p) => !wanted.includes(p));
    if (gone.length > 0) {
      for (const pattern of gone) this.#held.delete(pattern);
      this.#link.send({ type: 'unsubscribe', topics: gone });
    }
    const subscriptions = this.#subscriptions;
    if (fresh) {
      const last = this.#link.lastEventId();
      subscriptions.markUnresumable((s) => subscriptions.groups(last, [s])[0]!.since);
      // A new connection: everything in one request per starting position, so a
      // resume replays all topics as one ordered stream.
      for (const group of subscriptions.groups(last)) this.#ask(group.subscriptions, group.since);
      return;
    }
    const pending = new Set([...this.#requests.values()].flat());
    // New subscriptions first: asking them sets the filters their patterns need,
    // and only then is a held subscription whose pattern's filter must still
    // change (one with another filter left) asked again.
    for (const confirmed of [false, true]) {
      for (const subscription of subscriptions.list()) {
        if (subscription.confirmed !== confirmed || pending.has(subscription)) continue;
        if (confirmed && subscription.patterns.every((p) => this.#holds(p))) continue;
        // Joining a live connection: start from now, or from the subscription's own `since`.
        this.#ask([subscription], confirmed ? this.#link.lastEventId() : subscription.options.since);
      }
    }
  }

  /** The hub's `subscribed` for `ref`. */
  subscribed(ref: unknown): void {
    const subscriptions = this.#requests.get(ref);
    if (subscriptions === undefined) return;
    this.#requests.delete(ref);
    // A subscription asked in several requests (its patterns needed different filters) is held once all are.
    const waiting = new Set([...this.#requests.values()].flat());
    this.#subscriptions.confirm(subscriptions.filter((s) => !waiting.has(s)));
  }

  /** An unasked `unsubscribed` (reason `forbidden`): the hub no longer allows these topics (a refreshed token, or its periodic re-check). */
  revoked(topics: readonly string[]): void {
    for (const topic of topics) this.#held.delete(topic);
    const affected = this.#subscriptions.list().filter((s) => s.patterns.some((p) => topics.includes(p)));
    this.#refuse(affected, new HeraldError('forbidden', `the hub no longer allows ${topics.join(', ')}`));
  }

  /**
   * An `error` answering `ref`, with the hub's `code` (maybe one this version does
   * not know). Undefined when `ref` is no `subscribe` of this connection.
   */
  refused(ref: unknown, code: string, error: HeraldError): Refusal | undefined {
    const subscriptions = this.#requests.get(ref);
    if (subscriptions === undefined) return undefined;
    this.#requests.delete(ref);
    if (isErrorCode(code) && clientActionOf(code) === 'back_off') {
      // The hub could not read its log or ask its hook just now: refusing the
      // subscription would lose it for good. Reconnect with back-off instead; the
      // next connection resumes every subscription from the last event id.
      return 'reconnect';
    }
    const live = this.#subscriptions.live(subscriptions);
    if (live.length > 1) {
      // One refused pattern fails the whole request; ask again one subscription at a
      // time so only the refused one is told. Their replays may then interleave, but
      // each subscription still gets its own events in order.
      for (const subscription of live) this.#ask([subscription], this.#subscriptions.groups(this.#link.lastEventId(), [subscription])[0]!.since);
      return 'handled';
    }
    this.#refuse(live, error);
    return 'handled';
  }

  #refuse(subscriptions: Subscription[], error: HeraldError): void {
    for (const unhandled of this.#subscriptions.refuse(subscriptions, error)) {
      this.#link.reportError(new HeraldError(error.code, `subscription to ${unhandled.patterns.join(', ')} refused: ${error.message}`));
    }
  }

  // One `subscribe` per filter the patterns need: a request's filter applies to every pattern it names.
  #ask(subscriptions: Subscription[], since: string | undefined): void {
    const byFilter = new Map<string | undefined, string[]>();
    for (const pattern of new Set(subscriptions.flatMap((s) => s.patterns))) {
      const filter = this.#subscriptions.hubFilter(pattern);
      byFilter.set(filter, [...(byFilter.get(filter) ?? []), pattern]);
    }
    for (const [filter, topics] of byFilter) {
      const ref = this.#link.nextRef();
      for (const pattern of topics) this.#held.set(pattern, filter);
      this.#requests.set(
        ref,
        subscriptions.filter((s) => s.patterns.some((p) => topics.includes(p))),
      );
      // Sent as JSON, which leaves out an undefined `since` or `filter`.
      this.#link.send({ type: 'subscribe', topics, since, filter, ref });
    }
  }
}
