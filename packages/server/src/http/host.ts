import type { EventFilter, HeraldError } from '@herald/protocol';
import type { Logger } from 'pino';
import type { Access, Principal } from '../auth/access.js';
import type { AppendResult, EventDraft } from '../broker/broker.js';
import type { HubMetrics } from '../metrics.js';
import type { ResolvedHubOptions } from '../options.js';
import type { Connection, ConnectionContext } from '../transport/connection.js';

/** What a subscriber asks for: patterns, an optional resume position, an optional data filter. */
export interface SubscriberRequest {
  readonly topics: readonly string[];
  /** Resume after this event id; undefined starts live. */
  readonly since: string | undefined;
  readonly filter: EventFilter | undefined;
  /** The patterns `filter` applies to: the ones the client named (server-chosen topics are unfiltered). Default all. */
  readonly filtered?: readonly string[];
}

/** The answer of `/readyz`. */
interface Readiness {
  /** The broker is ready and the hub is not closing. */
  ready: boolean;
  /** The broker's name (`memory`, `redis`). */
  broker: string;
  closing: boolean;
}

/**
 * Everything an HTTP or WebSocket endpoint may ask of the hub, and nothing more.
 * The hub hands one to its endpoints; an endpoint never sees the `Hub` itself, so
 * the core stays free of HTTP and the endpoints cannot reach its internals. Types
 * only: importing this file pulls in no code.
 */
export interface HubHost {
  readonly options: ResolvedHubOptions;
  readonly log: Logger;
  readonly metrics: HubMetrics;
  /** Who a request is and what it may do. */
  readonly access: Access;
  /** What every subscriber connection is built with. */
  readonly connectionContext: ConnectionContext;
  /** True once the hub is shutting down. */
  readonly closing: boolean;
  readiness(): Readiness;
  /** Whether a new connection from `address` may open now (limits, shutdown), or the error that says why not. */
  admit(address: string): HeraldError | undefined;
  /**
   * Registers an admitted connection, subscribes it to the request's patterns
   * (replaying from `since`) and starts it with `connected`. Rejects, leaving the
   * connection registered but unsubscribed, when the log cannot be read.
   */
  openSubscriber(connection: Connection, request: SubscriberRequest): Promise<void>;
  /** Adds patterns to a started connection (WebSocket `subscribe`); `announce` writes the reply before any replayed event. */
  subscribe(connection: Connection, request: SubscriberRequest, announce: () => void): Promise<void>;
  /** Removes patterns from a connection; returns the ones it held. */
  unsubscribe(connection: Connection, topics: readonly string[]): string[];
  /** Appends drafts as `principal`: rights, then the publish rate budget, then the log. */
  publishAs(principal: Principal, drafts: EventDraft[]): Promise<AppendResult[]>;
  /**
   * Swaps in a fresh token on a live connection: same subject required; its expiry
   * moves; the patterns it no longer allows are unsubscribed and returned.
   */
  refreshToken(connection: Connection, token: string): Promise<string[]>;
}
