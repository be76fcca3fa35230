import { HeraldError, parseFilter, type ClientMessage, type ErrorCode, type Ref } from '@herald/protocol';
import type { EventDraft } from '../broker/broker.js';
import { serializeData } from '../publish-input.js';
import type { WsConnection } from '../transport/ws.js';
import type { HubHost } from './host.js';

/**
 * Answers one decoded client message on a WebSocket connection. A refusal (a
 * HeraldError) becomes an `error` reply with the request's `ref`; anything else
 * is a bug and rethrows, so the endpoint ends the connection.
 */
export async function handleMessage(host: HubHost, connection: WsConnection, message: ClientMessage): Promise<void> {
  if (connection.closed) return;
  const ref = message.ref;
  try {
    switch (message.type) {
      case 'ping':
        connection.sendControl(withRef({ type: 'pong' as const }, ref));
        return;
      case 'subscribe': {
        const total = new Set([...connection.topics, ...message.topics]).size;
        if (total > host.options.maxTopicsPerConnection) {
          throw new HeraldError('too_many_topics', `the connection would hold ${total} topics; the limit is ${host.options.maxTopicsPerConnection}`);
        }
        await host.access.checkSubscribe(connection.principal, message.topics);
        const filter = message.filter === undefined ? undefined : parseFilter(message.filter);
        await host.subscribe(connection, { topics: message.topics, since: message.since, filter }, () => {
          connection.sendControl(withRef({ type: 'subscribed' as const, topics: message.topics }, ref));
        });
        return;
      }
      case 'unsubscribe': {
        host.unsubscribe(connection, message.topics);
        connection.sendControl(withRef({ type: 'unsubscribed' as const, topics: message.topics }, ref));
        return;
      }
      case 'publish': {
        const dataJson = serializeData(message.data, host.options.maxEventBytes);
        const draft: EventDraft = {
          topic: message.topic,
          type: message.event,
          data: message.data,
          dataJson,
          ...(message.id === undefined ? {} : { id: message.id }),
        };
        const [result] = await host.publishAs(connection.principal, [draft]);
        connection.sendControl(withRef({ type: 'published' as const, id: result!.id, duplicate: result!.duplicate }, ref));
        return;
      }
      case 'refresh':
        await refresh(host, connection, message.token, ref);
        return;
    }
  } catch (error) {
    if (!(error instanceof HeraldError)) throw error;
    host.metrics.rejected(error.code);
    replyError(connection, error, ref);
  }
}

/**
 * Swaps in a fresh token and answers `refreshed`; topics the new token (or the
 * authorization hook) no longer allows are announced first, with `unsubscribed`
 * and reason `forbidden`.
 */
async function refresh(host: HubHost, connection: WsConnection, token: string, ref: Ref | undefined): Promise<void> {
  const revoked = await host.refreshToken(connection, token);
  if (revoked.length > 0) connection.sendControl({ type: 'unsubscribed', topics: revoked, reason: 'forbidden' });
  connection.sendControl(withRef({ type: 'refreshed' as const, expiresAt: connection.principal.expiresAt ?? null }, ref));
}

/** Answers a request with an `error` message carrying its `ref`. */
export function replyError(connection: WsConnection, error: HeraldError, ref: Ref | undefined): void {
  connection.sendControl(withRef({ type: 'error' as const, code: error.code, message: error.message }, ref));
}

/** Ends the connection over a message it may not send (rate, binary data), counting the refusal. */
export function rejectMessage(host: HubHost, connection: WsConnection, code: ErrorCode): void {
  host.metrics.rejected(code);
  connection.close(code);
}

/** Adds `ref` to a reply built for it (set, not spread: a spread copy takes V8's slow clone path). */
function withRef<T extends object>(message: T, ref: Ref | undefined): T & { ref?: Ref } {
  if (ref !== undefined) (message as T & { ref?: Ref }).ref = ref;
  return message;
}
