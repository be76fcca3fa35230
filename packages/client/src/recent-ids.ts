/**
 * The ids of the last `capacity` events, to drop an event seen twice: a resume
 * may replay events the client already has (after a switch of transport, or when
 * a `since` replay runs behind live events). A Set keeps insertion order, so the
 * oldest id is the first one to evict.
 */
export class RecentIds {
  readonly #ids = new Set<string>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Records `id`; returns false when it was already recorded. */
  add(id: string): boolean {
    if (this.#ids.has(id)) return false;
    this.#ids.add(id);
    if (this.#ids.size > this.#capacity) {
      for (const oldest of this.#ids) {
        this.#ids.delete(oldest);
        break;
      }
    }
    return true;
  }
}
