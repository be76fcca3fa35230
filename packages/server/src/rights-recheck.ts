import { HeraldError } from '@herald/protocol';
import type { Logger } from 'pino';
import type { Access } from './auth/access.js';
import { unsubscribe } from './subscribe.js';
import type { SubscriptionIndex } from './subscription-index.js';
import type { Connection } from './transport/connection.js';

/** What the periodic rights re-check needs from the hub. */
export interface RecheckDeps {
  access: Access;
  index: SubscriptionIndex<Connection>;
  log: Logger;
  /** Sets the connection's next re-check. */
  reschedule(connection: Connection): void;
}

/**
 * Checks a live connection's subscriptions against its rights and the
 * authorization hook again (`reauthorizeInterval`), because rights that live in
 * the app's database change while connections stay open: a supervisor loses a
 * group. Subscriptions no longer allowed end with one `unsubscribed` (reason
 * `forbidden`, no `ref`); the connection and its other subscriptions go on. A
 * hook that does not answer revokes nothing (the next re-check asks again): a
 * hook outage must not cut every subscriber at once. Never rejects.
 */
export async function recheckRights(deps: RecheckDeps, connection: Connection): Promise<void> {
  try {
    // Still opening (its replay running): `connected` has not gone out, so wait for the next round.
    if (connection.closed || !connection.started) return;
    const revoked = await deps.access.revokedPatterns(connection.principal, [...connection.topics]);
    if (connection.closed || revoked.length === 0) return;
    const removed = unsubscribe(deps, connection, revoked);
    if (removed.length === 0) return;
    connection.sendControl({ type: 'unsubscribed', topics: removed, reason: 'forbidden' });
    deps.log.info(
      { connectionId: connection.id, sub: connection.principal.sub, topics: removed },
      'ended subscriptions the authorization hook no longer allows',
    );
  } catch (error) {
    if (error instanceof HeraldError) deps.log.warn({ connectionId: connection.id, code: error.code }, 'could not re-check subscriptions; keeping them');
    else deps.log.error({ err: error, connectionId: connection.id }, 'the rights re-check failed');
  } finally {
    deps.reschedule(connection);
  }
}
