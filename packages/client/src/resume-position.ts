import type { ConnectedMessage } from '@herald/protocol';
import { RecentIds } from './recent-ids.js';
import type { HeraldEvent } from './types.js';

/**
 * Where the client stands in the hub's log: the id the next connection resumes
 * from, and the ids recently delivered, so an event a resume replays is not
 * delivered twice.
 */
export class ResumePosition {
  readonly #seen: RecentIds;
  #lastEventId: string | undefined;
  /** The current SSE attempt asked to resume (a `since`), so a `reset` may follow `connected`. */
  #resumeAsked = false;

  constructor(dedupeWindow: number) {
    this.#seen = new RecentIds(dedupeWindow);
  }

  /** The id of the last event received or, before any, the position the hub named in `connected`. */
  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  /** Moves past `event`; false when it was already delivered (a resume can replay what a previous connection delivered). */
  received(event: HeraldEvent): boolean {
    if (!this.#seen.add(event.id)) return false;
    this.#lastEventId = event.id;
    return true;
  }

  /** A connection is being opened that resumes from `since` (SSE), or from nothing in its URL. */
  opening(since: string | undefined): void {
    this.#resumeAsked = since !== undefined;
  }

  /**
   * Takes the hub's `connected.lastEventId` as the resume position while the client
   * has none, so a drop before the first event resumes instead of losing what was
   * published meanwhile. Only then: over WebSocket `connected` comes before the
   * subscribes, so it must never replace a position the client already holds. And
   * not when a `reset` may follow (an SSE resume that failed): a drop before the
   * reset arrived would then resume past events the reset was to report.
   */
  adopt(message: ConnectedMessage): void {
    const position = message.lastEventId;
    if (this.#lastEventId !== undefined || position === undefined || position === '') return;
    if (this.#resumeAsked && !message.resumed) return;
    this.#lastEventId = position;
  }
}
