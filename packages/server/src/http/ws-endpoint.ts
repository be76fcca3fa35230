import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { decodeClientMessage, HeraldError, parseFilter, type ClientMessage, type ErrorCode, type EventFilter, type Ref } from '@herald/protocol';
import type { RawData, WebSocket } from 'ws';
import type { Principal } from '../auth/access.js';
import { clientAddress } from '../auth/credentials.js';
import type { EventDraft } from '../broker/broker.js';
import type { Hub } from '../hub.js';
import { serializeData } from '../publish-input.js';
import { subscribe, unsubscribe } from '../subscribe.js';
import { WsConnection } from '../transport/ws.js';
import { authorizePublish } from './publish-endpoint.js';
import { readFilter, readPosition, readTopics } from './query.js';
import { answerOnRawSocket } from './respond.js';
import { refuseMalformedHandshake } from './upgrade-check.js';

/**
 * Handles an upgrade request for `<basePath>/ws`. Everything is decided before the
 * upgrade (input, Origin, credentials, rights for `?topic=`, limits), so a refused
 * client sees a plain HTTP status and JSON error.
 */
export function routeUpgrade(hub: Hub, req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
  const url = new URL(req.url ?? '/', 'http://herald.invalid');
  if (url.pathname !== `${hub.options.basePath}/ws`) return false;
  if (refuseMalformedHandshake(req, socket, (code) => hub.metrics.rejected(code))) return true;
  upgrade(hub, req, socket, head, url).catch((error: unknown) => {
    const heraldError = error instanceof HeraldError ? error : new HeraldError('internal_error');
    if (!(error instanceof HeraldError)) hub.log.error({ err: error }, 'WebSocket upgrade failed');
    hub.metrics.rejected(heraldError.code);
    answerOnRawSocket(socket, heraldError);
  });
  return true;
}

async function upgrade(hub: Hub, req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
  const topics = readTopics(url, hub.options.maxTopicsPerConnection, false);
  const since = readPosition(url.searchParams.get('since') || url.searchParams.get('lastEventId'), 'since');
  if (since !== undefined && topics.length === 0) throw new HeraldError('invalid_request', 'since needs at least one ?topic= to resume');
  const filter = readFilter(url, topics);
  const address = clientAddress(req, hub.options.trustProxy);
  const principal = await hub.access.identify(req, url, address);
  // Browsers send Origin with every WebSocket and no CORS applies, so the hub checks it:
  // always against an allowlist when one is set, and always for cookie credentials,
  // which a foreign page would otherwise ride on (cross-site WebSocket hijacking).
  const origin = req.headers.origin;
  const host = req.headers.host;
  if ((hub.access.hasOriginAllowlist && !hub.access.originAllowed(origin, host)) || !hub.access.cookieOriginAllowed(principal, origin, host)) {
    throw new HeraldError(
      'origin_not_allowed',
      origin === undefined ? 'a cookie credential needs the Origin of an allowed page' : `Origin ${origin.slice(0, 100)} may not open WebSockets here`,
    );
  }
  if (topics.length > 0) await hub.access.checkSubscribe(principal, topics);
  const refusal = hub.admit(address);
  if (refusal !== undefined) throw refusal;
  if (socket.destroyed) return;
  hub.wss.handleUpgrade(req, socket, head, (ws) => open(hub, ws, principal, address, topics, since, filter));
}

function open(
  hub: Hub,
  ws: WebSocket,
  principal: Principal,
  address: string,
  topics: string[],
  since: string | undefined,
  filter: EventFilter | undefined,
): void {
  const connection = new WsConnection(hub.newConnectionId(), hub.connectionContext, principal, address, ws, hub.wsFrames);
  hub.register(connection);
  // Requests are handled one at a time, in order, so replies and replays never interleave.
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (task: () => Promise<void>): void => {
    queue = queue.then(task).catch((error: unknown) => {
      hub.log.error({ err: error, connectionId: connection.id }, 'a WebSocket request failed');
      connection.close('internal_error');
    });
  };
  ws.on('error', (error: Error & { code?: string }) => {
    // ws closes by itself (1009) on an oversized frame; count it under our code.
    if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') hub.metrics.rejected('frame_too_large');
    hub.log.debug({ err: error, connectionId: connection.id }, 'WebSocket error');
  });
  ws.on('message', (data: RawData, isBinary: boolean) => {
    connection.alive = true;
    // Publish-key holders are trusted backends; their volume is governed by publishRate.
    if (connection.principal.kind !== 'key' && !connection.allowMessage(hub.options.wsMessageRate, Date.now())) {
      return reject(hub, connection, 'rate_limited');
    }
    if (isBinary) return reject(hub, connection, 'unsupported_data');
    const decoded = decodeClientMessage(rawText(data));
    if (!decoded.ok) {
      hub.metrics.rejected(decoded.error.code);
      const { error, ref } = decoded;
      // Through the queue like every reply, so it never overtakes answers to earlier requests.
      enqueue(async () => replyError(connection, error, ref));
      return;
    }
    const message = decoded.message;
    enqueue(() => handleMessage(hub, connection, message));
  });
  enqueue(() =>
    subscribe(hub, connection, topics, since, ({ resumed, lastEventId }) => {
      connection.sendControl({ type: 'connected', connectionId: connection.id, heartbeat: hub.options.heartbeatInterval, resumed, lastEventId });
      connection.started = true;
    }, filter).catch((error: unknown) => {
      // The URL's subscription could not start (the log is unreachable for its
      // `since`): end with that code, so the client backs off and resumes.
      if (!(error instanceof HeraldError)) throw error;
      hub.metrics.rejected(error.code);
      connection.close(error.code);
    }),
  );
}

async function handleMessage(hub: Hub, connection: WsConnection, message: ClientMessage): Promise<void> {
  if (connection.closed) return;
  const ref = message.ref;
  try {
    switch (message.type) {
      case 'ping':
        connection.sendControl(withRef({ type: 'pong' as const }, ref));
        return;
      case 'subscribe': {
        const total = new Set([...connection.topics, ...message.topics]).size;
        if (total > hub.options.maxTopicsPerConnection) {
          throw new HeraldError('too_many_topics', `the connection would hold ${total} topics; the limit is ${hub.options.maxTopicsPerConnection}`);
        }
        await hub.access.checkSubscribe(connection.principal, message.topics);
        const filter = message.filter === undefined ? undefined : parseFilter(message.filter);
        await subscribe(hub, connection, message.topics, message.since, () => {
          connection.sendControl(withRef({ type: 'subscribed' as const, topics: message.topics }, ref));
        }, filter);
        return;
      }
      case 'unsubscribe': {
        unsubscribe(hub, connection, message.topics);
        connection.sendControl(withRef({ type: 'unsubscribed' as const, topics: message.topics }, ref));
        return;
      }
      case 'publish': {
        const dataJson = serializeData(message.data, hub.options.maxEventBytes);
        const draft: EventDraft = { topic: message.topic, type: message.event, data: message.data, dataJson, ...(message.id === undefined ? {} : { id: message.id }) };
        authorizePublish(hub, connection.principal, [draft]);
        const [result] = await hub.append([draft]);
        connection.sendControl(withRef({ type: 'published' as const, id: result!.id, duplicate: result!.duplicate }, ref));
        return;
      }
      case 'refresh':
        await refresh(hub, connection, message.token, ref);
        return;
    }
  } catch (error) {
    if (!(error instanceof HeraldError)) throw error;
    hub.metrics.rejected(error.code);
    replyError(connection, error, ref);
  }
}

/**
 * Swaps in a fresh token: same subject required; the connection lives until the
 * new expiry; topics the new token (or the authorization hook) no longer allows
 * are unsubscribed and announced with `unsubscribed` and reason `forbidden`.
 */
async function refresh(hub: Hub, connection: WsConnection, token: string, ref: Ref | undefined): Promise<void> {
  const principal = await hub.access.refresh(connection.principal, token);
  const held = [...connection.topics];
  const revoked = new Set(hub.access.refusedPatterns(principal, held));
  const guarded = held.filter((topic) => !revoked.has(topic) && !hub.access.isPublic(topic));
  if (guarded.length > 0) {
    // The hook answers for the set as a whole; public topics never depend on it.
    await hub.access.checkSubscribe(principal, guarded).catch((error: unknown) => {
      if (!(error instanceof HeraldError) || error.code !== 'forbidden') throw error;
      for (const topic of guarded) revoked.add(topic);
    });
  }
  connection.principal = principal;
  hub.reschedule(connection);
  if (revoked.size > 0) {
    const topics = unsubscribe(hub, connection, [...revoked]);
    connection.sendControl({ type: 'unsubscribed', topics, reason: 'forbidden' });
  }
  connection.sendControl(withRef({ type: 'refreshed' as const, expiresAt: principal.expiresAt ?? null }, ref));
}

function replyError(connection: WsConnection, error: HeraldError, ref: Ref | undefined): void {
  connection.sendControl(withRef({ type: 'error' as const, code: error.code, message: error.message }, ref));
}

function reject(hub: Hub, connection: WsConnection, code: ErrorCode): void {
  hub.metrics.rejected(code);
  connection.close(code);
}

/** Adds `ref` to a reply built for it (set, not spread: a spread copy takes V8's slow clone path). */
function withRef<T extends object>(message: T, ref: Ref | undefined): T & { ref?: Ref } {
  if (ref !== undefined) (message as T & { ref?: Ref }).ref = ref;
  return message;
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
