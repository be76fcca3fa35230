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
}

/**
 * The hub's open subscriber connections: admission against the limits, the
 * counts per transport and per address, the one shared heartbeat timer, token
 * expiry, and waiting for them to leave at shutdown. Knows nothing of topics.
 */
export class ConnectionRegistry {
  readonly #settings: RegistrySettings;
  readonly #connections = new Set<Connection>();
  readonly #counts: Record<TransportName, number> = { sse: 0, ws: 0 };
  readonly #addresses = new AddressCounter();
  readonly #expiry: ExpiryScheduler<Connection>;
  readonly #heartbeat: NodeJS.Timeout;
  #emptied: (() => void) | undefined;

  constructor(settings: RegistrySettings) {
    this.#settings = settings;
    // One shared timer ends connections whose token expired; the client reconnects with a fresh one and resumes.
    this.#expiry = new ExpiryScheduler((connection) => connection.close('token_expired'));
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
  }

  /** Moves a connection's expiry after a token refresh. */
  reschedule(connection: Connection): void {
    this.#expiry.set(connection, connection.principal.expiresAt);
  }

  /** Stops tracking a connection that ended; false when it was not tracked. */
  forget(connection: Connection): boolean {
    if (!this.#connections.delete(connection)) return false;
    this.#counts[connection.transport]--;
    this.#addresses.remove(connection.address);
    this.#expiry.delete(connection);
    if (this.#connections.size === 0) this.#emptied?.();
    return true;
  }

  /** Stops the heartbeat and expiry timers (shutdown). */
  stop(): void {
    clearInterval(this.#heartbeat);
    this.#expiry.stop();
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
