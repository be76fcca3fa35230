// Stands in for the door sensors: each step moves a few people in or out of the session,
// more often in while it is empty and out while it is over capacity, so a running demo
// keeps raising alerts that a supervisor can resolve.
import type { Movement, PeopleCounter } from './counter.js';

export class Simulator {
  readonly #counter: PeopleCounter;
  readonly #sessionId: string;
  #timer: NodeJS.Timeout | undefined;

  constructor(counter: PeopleCounter, sessionId: string) {
    this.#counter = counter;
    this.#sessionId = sessionId;
  }

  async step(): Promise<Movement> {
    const session = (await this.#counter.sessions()).find((s) => s.id === this.#sessionId);
    const fill = session === undefined ? 0 : session.current_count / session.capacity;
    const inside = session?.current_count ?? 0;
    const direction = inside === 0 || Math.random() < 0.75 - fill / 2 ? 'in' : 'out';
    // Nobody leaves who is not inside.
    const count = 1 + Math.floor(Math.random() * 3);
    return this.#counter.move(this.#sessionId, direction, direction === 'out' ? Math.min(count, inside) : count);
  }

  /** Steps every `intervalMs` until {@link stop}; a failed step is logged, not fatal. */
  start(intervalMs: number): void {
    this.#timer ??= setInterval(() => {
      this.step().catch((error: unknown) => process.stderr.write(`people counter simulator: ${String(error)}\n`));
    }, intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
