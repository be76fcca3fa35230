import type { Lease, LeaseOptions } from './broker.js';

/** Throws TypeError unless `name` can name a lease. */
export function assertLeaseName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '') throw new TypeError(`lease: name must be a non-empty string, got ${JSON.stringify(name)}`);
}

/**
 * Leases of a log that one process owns (MemoryBroker). No other node shares the
 * log, so there is nobody to hand a role to and nothing can expire: the first
 * lease of a name holds it at once, later ones of the same name queue behind it
 * in order, and a release passes it to the next. TTL and eligibility do not apply.
 */
export class LocalLeases {
  readonly #queues = new Map<string, LocalLease[]>();
  #closed = false;

  /** A new lease of `name`: held at once when no other lease of the name is open. */
  lease(name: string, options: LeaseOptions = {}): Lease {
    assertLeaseName(name);
    const queue = this.#queues.get(name) ?? [];
    this.#queues.set(name, queue);
    const lease = new LocalLease(name, options.onChange, this);
    if (!this.#closed) queue.push(lease);
    return lease;
  }

  /** True when `lease` is first in its name's queue and the log is open. */
  isHolder(lease: LocalLease): boolean {
    return !this.#closed && this.#queues.get(lease.name)?.[0] === lease;
  }

  /** Removes `lease`; when it was the holder, the next in line takes over. */
  remove(lease: LocalLease): void {
    const queue = this.#queues.get(lease.name);
    const index = queue?.indexOf(lease) ?? -1;
    if (queue === undefined || index < 0) return;
    const wasHolder = index === 0 && !this.#closed;
    queue.splice(index, 1);
    if (queue.length === 0) this.#queues.delete(lease.name);
    if (!wasHolder) return;
    lease.changed(false);
    queue[0]?.changed(true);
  }

  /** Ends every lease: the log is closing, so nobody acts for it any more. */
  close(): void {
    if (this.#closed) return;
    const holders = [...this.#queues.values()].map((queue) => queue[0]);
    this.#closed = true;
    this.#queues.clear();
    for (const holder of holders) holder?.changed(false);
  }
}

class LocalLease implements Lease {
  readonly name: string;
  readonly ready: Promise<void>;
  readonly #onChange: ((held: boolean) => void) | undefined;
  readonly #registry: LocalLeases;
  #reported = false;

  constructor(name: string, onChange: ((held: boolean) => void) | undefined, registry: LocalLeases) {
    this.name = name;
    this.#onChange = onChange;
    this.#registry = registry;
    // Told after the caller has the lease in hand, as a shared log's lease would be.
    this.ready = Promise.resolve().then(() => {
      if (this.held()) this.changed(true);
    });
  }

  held(): boolean {
    return this.#registry.isHolder(this);
  }

  async release(): Promise<void> {
    this.#registry.remove(this);
  }

  /** @internal Reports a change of holding to the owner's callback, once per change. */
  changed(held: boolean): void {
    if (held === this.#reported) return;
    this.#reported = held;
    this.#onChange?.(held);
  }
}
