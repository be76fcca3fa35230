/**
 * Finds the subscribers of a topic. Exact patterns (the common case: one topic per
 * view) are a single map lookup; wildcard patterns live in a segment trie, so the
 * cost of a publish grows with the topic's depth, not with the number of patterns.
 */
interface TrieNode<T> {
  children: Map<string, TrieNode<T>>;
  star: TrieNode<T> | undefined;
  /** Subscribers whose pattern ends at this node. */
  here: Set<T>;
  /** Subscribers whose pattern ends with `**` at this node. */
  rest: Set<T>;
}

function node<T>(): TrieNode<T> {
  return { children: new Map(), star: undefined, here: new Set(), rest: new Set() };
}

function isWildcard(segments: string[]): boolean {
  return segments.includes('*') || segments.includes('**');
}

function isEmpty<T>(n: TrieNode<T>): boolean {
  return n.children.size === 0 && n.star === undefined && n.here.size === 0 && n.rest.size === 0;
}

/** A map from topic patterns to subscribers. Patterns must already be valid. */
export class SubscriptionIndex<T> {
  readonly #exact = new Map<string, Set<T>>();
  readonly #root: TrieNode<T> = node();
  #wildcards = 0;
  #size = 0;

  /** Number of (pattern, subscriber) pairs held. */
  get size(): number {
    return this.#size;
  }

  /** Adds a pair; returns false when it was already there. */
  add(pattern: string, subscriber: T): boolean {
    const segments = pattern.split('/');
    const wild = isWildcard(segments);
    const set = wild ? this.#trieSet(segments) : this.#exactSet(pattern);
    if (set.has(subscriber)) return false;
    set.add(subscriber);
    this.#size++;
    if (wild) this.#wildcards++;
    return true;
  }

  /** Removes a pair; returns false when it was not there. */
  remove(pattern: string, subscriber: T): boolean {
    const segments = pattern.split('/');
    if (!isWildcard(segments)) {
      const set = this.#exact.get(pattern);
      if (set === undefined || !set.delete(subscriber)) return false;
      if (set.size === 0) this.#exact.delete(pattern);
      this.#size--;
      return true;
    }
    if (!this.#removeFromTrie(this.#root, segments, 0, subscriber)) return false;
    this.#size--;
    this.#wildcards--;
    return true;
  }

  /**
   * Calls `visit` for each subscriber with a pattern matching `topic`. A subscriber
   * holding several matching patterns is visited once per pattern; callers dedupe.
   */
  forEachMatch(topic: string, visit: (subscriber: T) => void): void {
    const exact = this.#exact.get(topic);
    if (exact !== undefined) for (const subscriber of exact) visit(subscriber);
    if (this.#wildcards > 0) this.#visitTrie(this.#root, topic.split('/'), 0, visit);
  }

  #exactSet(pattern: string): Set<T> {
    let set = this.#exact.get(pattern);
    if (set === undefined) {
      set = new Set();
      this.#exact.set(pattern, set);
    }
    return set;
  }

  #trieSet(segments: string[]): Set<T> {
    let current = this.#root;
    for (const segment of segments) {
      if (segment === '**') return current.rest;
      let next = segment === '*' ? current.star : current.children.get(segment);
      if (next === undefined) {
        next = node();
        if (segment === '*') current.star = next;
        else current.children.set(segment, next);
      }
      current = next;
    }
    return current.here;
  }

  #removeFromTrie(current: TrieNode<T>, segments: string[], index: number, subscriber: T): boolean {
    const segment = segments[index];
    if (segment === undefined) return current.here.delete(subscriber);
    if (segment === '**') return current.rest.delete(subscriber);
    const next = segment === '*' ? current.star : current.children.get(segment);
    if (next === undefined || !this.#removeFromTrie(next, segments, index + 1, subscriber)) return false;
    if (isEmpty(next)) {
      if (segment === '*') current.star = undefined;
      else current.children.delete(segment);
    }
    return true;
  }

  #visitTrie(current: TrieNode<T>, segments: string[], index: number, visit: (subscriber: T) => void): void {
    for (const subscriber of current.rest) visit(subscriber);
    const segment = segments[index];
    if (segment === undefined) {
      for (const subscriber of current.here) visit(subscriber);
      return;
    }
    const child = current.children.get(segment);
    if (child !== undefined) this.#visitTrie(child, segments, index + 1, visit);
    if (current.star !== undefined) this.#visitTrie(current.star, segments, index + 1, visit);
  }
}
