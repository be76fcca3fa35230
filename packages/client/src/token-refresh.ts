import type { ResolvedOptions } from './options.js';
import { refreshDelay, tokenExpiry } from './token-expiry.js';

/** What token refresh needs from the client: the current connection, and refs shared with every other request on it. */
export interface RefreshLink {
  /** True while `generation` is still the client's current connection. */
  isCurrent(generation: number): boolean;
  /** Sends a message on the current connection. */
  send(message: object): void;
  /** The ref for the next request on the connection. */
  nextRef(): number;
}

/**
 * WebSocket only: swaps in a fresh token shortly before the current one expires,
 * so a long-lived connection never has to drop. (Over SSE the hub ends the stream
 * with `token_expired` and the client reconnects with a fresh token, resuming.)
 * Refreshes only when the new token lives longer than the last, so a `getToken`
 * that keeps returning the same token cannot cause a loop.
 */
export class TokenRefresh {
  readonly #options: Pick<ResolvedOptions, 'clock' | 'getToken' | 'refreshable'>;
  readonly #link: RefreshLink;
  /** The token the current connection was opened (or last refreshed) with. */
  #token: string | undefined;
  #timer: unknown;
  /** `refresh` requests in flight: ref to the token sent (keyed by whatever ref a reply echoes; ours are numbers). */
  readonly #inFlight = new Map<unknown, string>();

  constructor(options: Pick<ResolvedOptions, 'clock' | 'getToken' | 'refreshable'>, link: RefreshLink) {
    this.#options = options;
    this.#link = link;
  }

  /** A new connection is being opened with `token`. */
  opened(token: string | undefined): void {
    this.#token = token;
  }

  /** The connection is up: refresh before its token expires (if it is a JWT with `exp` and `getToken` can give another). */
  schedule(generation: number, previousExpiry?: number): void {
    const expiry = tokenExpiry(this.#token);
    if (!this.#options.refreshable || expiry === undefined || (previousExpiry !== undefined && expiry <= previousExpiry)) return;
    const clock = this.#options.clock;
    this.#timer = clock.setTimeout(
      () => {
        Promise.resolve()
          .then(() => this.#options.getToken())
          .then(
            (token) => {
              if (!this.#link.isCurrent(generation) || token === undefined) return;
              const ref = this.#link.nextRef();
              this.#inFlight.set(ref, token);
              this.#link.send({ type: 'refresh', token, ref });
            },
            // No fresh token now: the hub will end the connection at expiry and the reconnect asks again.
            () => undefined,
          );
      },
      refreshDelay(expiry, clock.now()),
    );
  }

  /** The hub's `refreshed`: the token sent with `ref` is in force; schedule the next refresh. */
  refreshed(generation: number, ref: unknown): void {
    const token = this.#inFlight.get(ref);
    if (token === undefined) return;
    this.#inFlight.delete(ref);
    const previous = tokenExpiry(this.#token);
    this.#token = token;
    this.schedule(generation, previous);
  }

  /**
   * An `error` answering `ref`: true when it refused a refresh. That changes
   * nothing: the hub ends the connection at expiry and the reconnect fetches a token.
   */
  refused(ref: unknown): boolean {
    return this.#inFlight.delete(ref);
  }

  /** The connection is gone: no refresh for it is scheduled or awaited any more. */
  stop(): void {
    this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#inFlight.clear();
  }
}
