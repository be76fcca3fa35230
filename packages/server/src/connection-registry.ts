import { HeraldError } from '@herald/protocol';
import { ExpiryScheduler } from './auth/expiry.js';
import { AddressCounter } from './limits/rate-limiter.js';
import type { Connection, TransportName } from './transport/connection.js';

/** The connection limits and timers of a hub (a part of ResolvedHubOptions). */
export interface RegistrySettings {
  maxConnections: number;
  /** 0 means no per-address limit. */
  maxConnectionsPerIp: number;
  heartbeatInterval: number;
  /** How often token connections are re-checked against the authorization hook; 0 for never. */
  reauthorizeInterval: number;
}

/**
 * The hub's open subscriber connections: admission against the limits, the
 * counts per transport and per address, the one shared heartbeat timer, token
 * expiry, when each is due for its rights re-check, and waiting for them to
 * leave at shutdown. Knows nothing of topics.
 */
export class ConnectionRegistry {
  readonly #settings: RegistrySettings;
  readonly #connections = new Set<Connection>();
  readonly #counts: Record<TransportName, number> = { sse: 0, ws: 0 };
  readonly #addresses = new AddressCounter();
  readonly #expiry: ExpiryScheduler<Connection>;
  // When each token connection is due for its next re-check (undefined: never).
  readonly #recheck: ExpiryScheduler<Connection> | undefined;
  readonly #heartbeat: NodeJS.Timeout;
  #emptied: (() => void) | undefined;

  /** `onRecheckDue` runs when a token connection is due for its re-check; call `scheduleRecheck` after it. */
  constructor(settings: RegistrySettings, onRecheckDue?: (connection: Connection) => void) {
    this.#settings = settings;
    // One shared timer ends connections whose token expired; the client reconnects with a fresh one and resumes.
    this.#expiry = new ExpiryScheduler((connection) => connection.close('token_expired'));
    // One shared timer for the re-checks too. Each connection is due `reauthorizeInterval`
    // after it opened (or was last checked), so the hook's load is spread, not a burst per tick.
    this.#recheck = settings.reauthorizeInterval > 0 && onRecheckDue !== undefined ? new ExpiryScheduler(onRecheckDue) : undefined;
    this.#heartbeat = setInterval(() => {
      for (const connection of this.#connections) connection.heartbeat();
    }, settings.heartbeatInterval);
    this.#heartbeat.unref();
  }

  /** Open connections. */
  get size(): number {
    return this.#connections.size;
  }

  /** Open connections on one transport (the `herald_connections` gauge). */
  count(transport: TransportName): number {
    return this.#counts[transport];
  }

  /** Every open connection; removing one while iterating is safe. */
  [Symbol.iterator](): IterableIterator<Connection> {
    return this.#connections.values();
  }

  /** Whether a new connection from `address` fits the limits, or the error that says why not. */
  admit(address: string): HeraldError | undefined {
    if (this.#connections.size >= this.#settings.maxConnections) return new HeraldError('too_many_connections');
    const perAddress = this.#settings.maxConnectionsPerIp;
    if (perAddress > 0 && this.#addresses.count(address) >= perAddress) {
      return new HeraldError('too_many_connections_from_ip', `this address already holds ${perAddress} connections`);
    }
    return undefined;
  }

  /** Tracks an open connection: counts, heartbeats and its token's expiry. */
  register(connection: Connection): void {
    this.#connections.add(connection);
    this.#counts[connection.transport]++;
    this.#addresses.add(connection.address);
    this.#expiry.set(connection, connection.principal.expiresAt);
    this.scheduleRecheck(connection);
  }

  /** Sets when a token connection is next re-checked against the authorization hook (no-op when re-checks are off). */
  scheduleRecheck(connection: Connection): void {
    if (this.#recheck === undefined || connection.principal.kind !== 'token' || !this.#connections.has(connection)) return;
    this.#recheck.set(connection, Date.now() + this.#settings.reauthorizeInterval);
  }

  /** Moves a connection's expiry, and its next re-check (a refresh has just checked it), after a token refresh. */
  reschedule(connection: Connection): void {
    this.#expiry.set(connection, connection.principal.expiresAt);
    this.scheduleRecheck(connection);
  }

  /** Stops tracking a connection that ended; false when it was not tracked. */
  forget(connection: Connection): boolean {
    if (!this.#connections.delete(connection)) return false;
    this.#counts[connection.transport]--;
    this.#addresses.remove(connection.address);
    this.#expiry.delete(connection);
    this.#recheck?.delete(connection);
    if (this.#connections.size === 0) this.#emptied?.();
    return true;
  }

  /** Stops the heartbeat and expiry timers (shutdown). */
  stop(): void {
    clearInterval(this.#heartbeat);
    this.#expiry.stop();
    this.#recheck?.stop();
  }

  /** Resolves once every connection has left, or after `timeoutMs`, whichever comes first. */
  drain(timeoutMs: number): Promise<void> {
    if (this.#connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#emptied = undefined;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#emptied = done;
    });
  }
}
