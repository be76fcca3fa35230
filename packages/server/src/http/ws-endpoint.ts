import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { decodeClientMessage, HeraldError } from '@herald/protocol';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Principal } from '../auth/access.js';
import { clientAddress } from '../auth/credentials.js';
import { WsConnection } from '../transport/ws.js';
import type { HubHost, SubscriberRequest } from './host.js';
import { checkOpeningTopics, readFilter, readPosition, readTopics } from './query.js';
import { answerOnRawSocket } from './respond.js';
import { refuseMalformedHandshake } from './upgrade-check.js';
import { handleMessage, rejectMessage, replyError } from './ws-messages.js';
import { closeRefused, visibleRefusal } from './ws-refusal.js';

/**
 * `GET <basePath>/ws`: the WebSocket endpoint. Everything is decided before the
 * upgrade (input, Origin, credentials, rights for `?topic=`, limits). A refusal
 * for the credential or rights is sent after the upgrade, as an `error` and a
 * 4xxx close a browser can read (ws-refusal.ts); every other refusal is a plain
 * HTTP status and JSON error. Owns the `ws` server that completes the handshakes.
 */
export class WsEndpoint {
  readonly #host: HubHost;
  readonly #wss: WebSocketServer;

  constructor(host: HubHost) {
    this.#host = host;
    // Compression off: it would make every frame per-connection work, and the raw
    // writes in encoding/ws-frame.ts rely on ws writing synchronously.
    this.#wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: host.options.maxBodyBytes, clientTracking: false });
  }

  /** Handles an upgrade request for `<basePath>/ws`; returns false for other paths. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const host = this.#host;
    const url = new URL(req.url ?? '/', 'http://herald.invalid');
    if (url.pathname !== `${host.options.basePath}/ws`) return false;
    if (refuseMalformedHandshake(req, socket, (code) => host.metrics.rejected(code))) return true;
    this.#upgrade(req, socket, head, url).catch((error: unknown) => {
      const heraldError = error instanceof HeraldError ? error : new HeraldError('internal_error');
      if (!(error instanceof HeraldError)) host.log.error({ err: error }, 'WebSocket upgrade failed');
      host.metrics.rejected(heraldError.code);
      answerOnRawSocket(socket, heraldError);
    });
    return true;
  }

  /** Stops the `ws` server (shutdown, once every connection is gone). */
  close(): void {
    this.#wss.close();
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    const host = this.#host;
    const requested = readTopics(url, host.options.maxTopicsPerConnection, false);
    const since = readPosition(url.searchParams.get('since') || url.searchParams.get('lastEventId'), 'since');
    const filter = readFilter(url, requested);
    const address = clientAddress(req, host.options.trustProxy);
    const access = host.access;
    // A refusal for the credential or rights is kept until the other checks pass,
    // then sent over the upgraded socket (ws-refusal.ts); any other refusal throws.
    let refusal: HeraldError | undefined;
    const principal = await access.identify(req, url, address).catch((error: unknown) => {
      refusal = visibleRefusal(error);
      if (refusal === undefined) throw error;
      return undefined;
    });
    checkOrigin(access, req, principal ?? { kind: 'token', source: access.credentialSource(req, url) });
    // The URL's topics plus the server-chosen ones (token, authorization hook).
    let topics: string[] = [];
    if (principal !== undefined) {
      topics = await access.connectTopics(principal, requested).catch((error: unknown) => {
        refusal = visibleRefusal(error);
        if (refusal === undefined) throw error;
        return [];
      });
      if (refusal === undefined) {
        checkOpeningTopics(topics, host.options.maxTopicsPerConnection, false);
      }
    }
    const admission = host.admit(address);
    if (admission !== undefined) throw admission;
    if (socket.destroyed) return;
    if (refusal !== undefined || principal === undefined) {
      const refused = refusal ?? new HeraldError('unauthorized');
      host.metrics.rejected(refused.code);
      this.#wss.handleUpgrade(req, socket, head, (ws) => closeRefused(ws, refused));
      return;
    }
    // A `since` with no topic to resume is ignored: the SDK sends its position on every reconnect, for the topics
    // the hub may choose for the token, and subscribes the rest with messages that carry their own `since`.
    const resumeFrom = topics.length === 0 ? undefined : since;
    this.#wss.handleUpgrade(req, socket, head, (ws) => open(host, ws, principal, address, { topics, since: resumeFrom, filter, filtered: requested }));
  }
}

/**
 * Browsers send Origin with every WebSocket and no CORS applies, so the hub checks
 * it: always against an allowlist when one is set, and always for cookie
 * credentials, which a foreign page would otherwise ride on (cross-site WebSocket
 * hijacking), even when the cookie does not verify. Refused over HTTP.
 */
function checkOrigin(access: HubHost['access'], req: IncomingMessage, caller: Pick<Principal, 'kind' | 'source'>): void {
  const origin = req.headers.origin;
  const hostHeader = req.headers.host;
  if ((access.hasOriginAllowlist && !access.originAllowed(origin, hostHeader)) || !access.cookieOriginAllowed(caller, origin, hostHeader)) {
    throw new HeraldError(
      'origin_not_allowed',
      origin === undefined ? 'a cookie credential needs the Origin of an allowed page' : `Origin ${origin.slice(0, 100)} may not open WebSockets here`,
    );
  }
}

function open(host: HubHost, ws: WebSocket, principal: Principal, address: string, request: SubscriberRequest): void {
  const connection = new WsConnection(host.connectionContext, principal, address, ws);
  // Requests are handled one at a time, in order, so replies and replays never interleave.
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (task: () => Promise<void>): void => {
    queue = queue.then(task).catch((error: unknown) => {
      host.log.error({ err: error, connectionId: connection.id }, 'a WebSocket request failed');
      connection.close('internal_error');
    });
  };
  ws.on('error', (error: Error & { code?: string }) => {
    // ws closes by itself (1009) on an oversized frame; count it under our code.
    if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') host.metrics.rejected('frame_too_large');
    host.log.debug({ err: error, connectionId: connection.id }, 'WebSocket error');
  });
  ws.on('message', (data: RawData, isBinary: boolean) => {
    connection.alive = true;
    // Publish-key holders are trusted backends; their volume is governed by publishRate.
    if (connection.principal.kind !== 'key' && !connection.allowMessage(host.options.wsMessageRate, Date.now())) {
      return rejectMessage(host, connection, 'rate_limited');
    }
    if (isBinary) return rejectMessage(host, connection, 'unsupported_data');
    const decoded = decodeClientMessage(rawText(data));
    if (!decoded.ok) {
      host.metrics.rejected(decoded.error.code);
      const { error, ref } = decoded;
      // Through the queue like every reply, so it never overtakes answers to earlier requests.
      enqueue(async () => replyError(connection, error, ref));
      return;
    }
    const message = decoded.message;
    enqueue(() => handleMessage(host, connection, message));
  });
  enqueue(() =>
    host.openSubscriber(connection, request).catch((error: unknown) => {
      // The URL's subscription could not start (the log is unreachable for its
      // `since`): end with that code, so the client backs off and resumes.
      if (!(error instanceof HeraldError)) throw error;
      host.metrics.rejected(error.code);
      connection.close(error.code);
    }),
  );
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
