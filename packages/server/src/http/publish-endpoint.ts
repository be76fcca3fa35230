import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeraldError } from '@herald/protocol';
import { clientAddress } from '../auth/credentials.js';
import { parsePublishBody } from '../publish-input.js';
import { readJsonBody } from './body.js';
import type { HubHost } from './host.js';
import { sendError, sendJson } from './respond.js';

/** `POST /publish`: one event or an array; answers `201 {"ids":[...]}` once the log holds them. */
export function handlePublish(host: HubHost, req: IncomingMessage, res: ServerResponse, url: URL): void {
  publish(host, req, url).then(
    (ids) => sendJson(res, 201, { ids }),
    (error: unknown) => {
      if (!(error instanceof HeraldError)) {
        host.log.error({ err: error }, 'publish failed');
        error = new HeraldError('internal_error');
      }
      const heraldError = error as HeraldError;
      host.metrics.rejected(heraldError.code);
      // The rest of an oversized body is not read, so this connection cannot carry another request.
      sendError(res, heraldError, heraldError.code === 'payload_too_large' ? { Connection: 'close' } : {});
    },
  );
}

async function publish(host: HubHost, req: IncomingMessage, url: URL): Promise<string[]> {
  const principal = await host.access.identify(req, url, clientAddress(req, host.options.trustProxy));
  // A cookie rides along on any cross-site request: only pages of allowed origins may publish with one (CSRF).
  if (!host.access.cookieOriginAllowed(principal, req.headers.origin, req.headers.host)) {
    throw new HeraldError('origin_not_allowed', 'publishing with a cookie needs an allowed Origin');
  }
  const body = await readJsonBody(req, host.options.maxBodyBytes);
  const drafts = parsePublishBody(body, host.options.maxEventBytes);
  const results = await host.publishAs(principal, drafts);
  return results.map((result) => result.id);
}
