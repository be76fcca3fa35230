/** A minimal typed event emitter: `on` returns the function that removes the listener. */
export class Emitter<Events extends Record<keyof Events, (...args: any[]) => void>> {
  readonly #listeners = new Map<keyof Events, Set<Events[keyof Events]>>();

  on<Name extends keyof Events>(name: Name, listener: Events[Name]): () => void {
    let set = this.#listeners.get(name);
    if (set === undefined) this.#listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  }

  emit<Name extends keyof Events>(name: Name, ...args: Parameters<Events[Name]>): void {
    for (const listener of [...(this.#listeners.get(name) ?? [])]) guarded(() => listener(...args));
  }
}

/**
 * Runs an application callback so that a throw cannot corrupt the client's state
 * half-way through a message; the error is rethrown on a fresh stack, where the
 * browser console or Node's uncaught-exception handler reports it.
 */
export function guarded(callback: () => void): void {
  try {
    callback();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
