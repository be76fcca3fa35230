import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeraldError } from '@herald/protocol';
import type { Principal } from '../auth/access.js';
import { clientAddress } from '../auth/credentials.js';
import type { EventDraft } from '../broker/broker.js';
import type { Hub } from '../hub.js';
import { parsePublishBody } from '../publish-input.js';
import { readJsonBody } from './body.js';
import { sendError, sendJson } from './respond.js';

/** `POST /publish`: one event or an array; answers `201 {"ids":[...]}` once the log holds them. */
export function handlePublish(hub: Hub, req: IncomingMessage, res: ServerResponse, url: URL): void {
  publish(hub, req, url).then(
    (ids) => sendJson(res, 201, { ids }),
    (error: unknown) => {
      if (!(error instanceof HeraldError)) {
        hub.log.error({ err: error }, 'publish failed');
        error = new HeraldError('internal_error');
      }
      const heraldError = error as HeraldError;
      hub.metrics.rejected(heraldError.code);
      // The rest of an oversized body is not read, so this connection cannot carry another request.
      sendError(res, heraldError, heraldError.code === 'payload_too_large' ? { Connection: 'close' } : {});
    },
  );
}

async function publish(hub: Hub, req: IncomingMessage, url: URL): Promise<string[]> {
  const principal = await hub.access.identify(req, url, clientAddress(req, hub.options.trustProxy));
  // A cookie rides along on any cross-site request: only pages of allowed origins may publish with one (CSRF).
  if (!hub.access.cookieOriginAllowed(principal, req.headers.origin, req.headers.host)) {
    throw new HeraldError('origin_not_allowed', 'publishing with a cookie needs an allowed Origin');
  }
  const body = await readJsonBody(req, hub.options.maxBodyBytes);
  const drafts = parsePublishBody(body, hub.options.maxEventBytes);
  authorizePublish(hub, principal, drafts);
  const results = await hub.append(drafts);
  return results.map((result) => result.id);
}

/** Throws unless the principal may publish every draft now: rights, then the publish rate budget. */
export function authorizePublish(hub: Hub, principal: Principal, drafts: readonly EventDraft[]): void {
  hub.access.checkPublish(principal, drafts.map((draft) => draft.topic));
  if (hub.publishLimiter !== undefined && !hub.publishLimiter.take(principal.rateKey, drafts.length)) {
    const { publishRate, publishBurst } = hub.options;
    const burst = publishBurst > 0 ? publishBurst : publishRate * 2;
    throw new HeraldError(
      'rate_limited',
      drafts.length > burst
        ? `a batch of ${drafts.length} events is larger than the publish burst of ${burst}`
        : `publishing faster than ${publishRate} events per second`,
    );
  }
}
