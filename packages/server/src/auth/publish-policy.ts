import { HeraldError } from '@herald/protocol';
import type { EventDraft } from '../broker/broker.js';
import { RateLimiter } from '../limits/rate-limiter.js';
import type { Access, Principal } from './access.js';

/** The publish settings of a hub (a part of HubOptions). */
export interface PublishPolicySettings {
  /** Events per second per publisher; 0 means no limit. */
  publishRate: number;
  /** Events a publisher may save up; 0 means twice `publishRate`. */
  publishBurst: number;
}

/**
 * Who may publish what, and how fast: the rights a principal holds, then the
 * publish rate budget. Both endpoints (POST /publish and a WebSocket `publish`)
 * ask it, through the hub's `publishAs`, so they cannot drift apart.
 */
export class PublishPolicy {
  readonly #access: Access;
  readonly #rate: number;
  // Decided once here, so the limiter and the refusal message always agree.
  readonly #burst: number;
  readonly #limiter: RateLimiter | undefined;

  constructor(access: Access, settings: PublishPolicySettings) {
    this.#access = access;
    this.#rate = settings.publishRate;
    this.#burst = settings.publishBurst > 0 ? settings.publishBurst : settings.publishRate * 2;
    this.#limiter = this.#rate > 0 ? new RateLimiter(this.#rate, this.#burst) : undefined;
  }

  /** Throws unless the principal may publish every draft now: rights, then the publish rate budget. */
  authorize(principal: Principal, drafts: readonly EventDraft[]): void {
    this.#access.checkPublish(
      principal,
      drafts.map((draft) => draft.topic),
    );
    if (this.#limiter === undefined || this.#limiter.take(principal.rateKey, drafts.length)) return;
    throw new HeraldError(
      'rate_limited',
      drafts.length > this.#burst
        ? `a batch of ${drafts.length} events is larger than the publish burst of ${this.#burst}`
        : `publishing faster than ${this.#rate} events per second`,
    );
  }
}
