import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeraldError } from '@herald/protocol';
import { clientAddress } from '../auth/credentials.js';
import { SSE_HEADERS, SseConnection } from '../transport/sse.js';
import type { HubHost } from './host.js';
import { checkOpeningTopics, readFilter, readPosition, readTopics } from './query.js';
import { sendError } from './respond.js';

/**
 * `GET /events?topic=A&topic=B`: opens an SSE stream, resuming from Last-Event-ID
 * when given. A token that names its topics (or an authorization hook that does)
 * needs no `topic`: the stream carries the server-chosen topics as well. Every refusal (bad input, credentials, rights, limits) is a JSON
 * error with its status before the stream starts.
 */
export function handleEvents(host: HubHost, req: IncomingMessage, res: ServerResponse, url: URL): void {
  open(host, req, res, url).catch((error: unknown) => {
    const heraldError = error instanceof HeraldError ? error : new HeraldError('internal_error');
    if (!(error instanceof HeraldError)) host.log.error({ err: error }, 'could not open an SSE stream');
    host.metrics.rejected(heraldError.code);
    if (!res.headersSent) sendError(res, heraldError);
  });
}

async function open(host: HubHost, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const requested = readTopics(url, host.options.maxTopicsPerConnection, false);
  const since = readSince(req, url);
  const filter = readFilter(url, requested);
  const address = clientAddress(req, host.options.trustProxy);
  const principal = await host.access.identify(req, url, address);
  // The client's topics plus the server-chosen ones (token, authorization hook).
  const topics = await host.access.connectTopics(principal, requested);
  checkOpeningTopics(topics, host.options.maxTopicsPerConnection, true);
  const refusal = host.admit(address);
  if (refusal !== undefined) throw refusal;
  if (req.destroyed) return;
  req.socket.setNoDelay(true);
  req.socket.setKeepAlive(true);
  res.writeHead(200, SSE_HEADERS);
  const connection = new SseConnection(host.connectionContext, principal, address, res, host.options.sseRetry);
  host.log.debug({ connectionId: connection.id, sub: principal.sub, topics }, 'SSE subscriber connected');
  try {
    await host.openSubscriber(connection, { topics, since, filter, filtered: requested });
  } catch (error) {
    host.log.error({ err: error, connectionId: connection.id }, 'could not start an SSE subscription');
    connection.close(error instanceof HeraldError ? error.code : 'internal_error');
  }
}

/** The resume position: the Last-Event-ID header (EventSource reconnects), else the lastEventId query parameter. */
function readSince(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers['last-event-id'];
  const value = (Array.isArray(header) ? header[0] : header) || url.searchParams.get('lastEventId');
  return readPosition(value, 'Last-Event-ID (or lastEventId)');
}
