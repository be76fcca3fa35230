import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeraldError } from '@herald/protocol';
import { demoPage } from './demo.js';
import { handleEvents } from './events-endpoint.js';
import type { HubHost } from './host.js';
import { handlePublish } from './publish-endpoint.js';
import { sendError, sendJson } from './respond.js';

type Handler = (host: HubHost, req: IncomingMessage, res: ServerResponse, url: URL) => void;

interface Route {
  method: 'GET' | 'POST';
  handle: Handler;
  /** Streams (SSE, WebSocket) answer HEAD with 405: a HEAD must not open a subscription. */
  stream?: true;
}

const ROUTES: Record<string, Route> = {
  '/events': { method: 'GET', handle: handleEvents, stream: true },
  '/publish': { method: 'POST', handle: handlePublish },
  '/ws': {
    method: 'GET',
    stream: true,
    handle: (_host, _req, res) => sendError(res, new HeraldError('upgrade_required', 'GET /ws needs a WebSocket upgrade'), { Upgrade: 'websocket' }),
  },
  '/healthz': { method: 'GET', handle: (_host, _req, res) => sendJson(res, 200, { status: 'ok' }) },
  '/readyz': {
    method: 'GET',
    handle: (host, _req, res) => {
      const { ready, broker, closing } = host.readiness();
      sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', broker, closing });
    },
  },
  '/metrics': {
    method: 'GET',
    handle: (host, _req, res) => {
      host.metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': host.metrics.registry.contentType });
          res.end(text);
        },
        (error: unknown) => {
          host.log.error({ err: error }, 'metrics failed');
          sendError(res, new HeraldError('internal_error'));
        },
      );
    },
  },
  '/': {
    method: 'GET',
    handle: (host, _req, res, url) => {
      if (!host.options.demo) return notFound(res, url);
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' });
      res.end(demoPage());
    },
  },
};

function answerPreflight(res: ServerResponse, route: Route, cors: Record<string, string> | undefined): void {
  if (cors === undefined) {
    sendError(res, new HeraldError('origin_not_allowed', 'this Origin is not in the allowed origins'));
    return;
  }
  res.writeHead(204, {
    ...cors,
    'Access-Control-Allow-Methods': route.method,
    'Access-Control-Allow-Headers': 'Authorization, Content-Type, Last-Event-ID',
    'Access-Control-Max-Age': '600',
  });
  res.end();
}

/** The paths the hub answers, relative to its basePath. */
export const HUB_PATHS: readonly string[] = Object.keys(ROUTES);

/** Answers 404 `not_found`, naming the path. */
export function notFound(res: ServerResponse, url: URL): void {
  sendError(res, new HeraldError('not_found', `no endpoint at ${url.pathname.slice(0, 100)}`));
}

/**
 * Routes a request under the hub's basePath. Returns false for paths the hub does
 * not own (so embedding apps can pass them on); answers 404 for unknown paths
 * under a non-empty basePath, and 405 with `Allow` for a wrong method.
 */
export function routeRequest(host: HubHost, req: IncomingMessage, res: ServerResponse): boolean {
  // Express strips a mount path from req.url; originalUrl keeps it, so the hub's
  // basePath works the same whether or not the middleware is mounted at a path.
  const raw = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  const url = new URL(raw, 'http://herald.invalid');
  const base = host.options.basePath;
  if (base !== '' && url.pathname !== base && !url.pathname.startsWith(`${base}/`)) return false;
  const path = url.pathname.slice(base.length) || '/';
  const route = ROUTES[path];
  if (route === undefined) {
    if (base === '') return false;
    notFound(res, url);
    return true;
  }
  if (path === '/' && !host.options.demo && base === '') return false;
  // CORS only for explicitly allowed origins; credentials only for listed ones (not `*`).
  const cors = host.access.corsHeaders(req.headers.origin);
  if (req.method === 'OPTIONS') {
    answerPreflight(res, route, cors);
    return true;
  }
  if (cors !== undefined) for (const [name, value] of Object.entries(cors)) res.setHeader(name, value);
  const method = req.method === 'HEAD' && route.stream !== true ? 'GET' : req.method;
  if (method !== route.method) {
    sendError(res, new HeraldError('method_not_allowed', `${path} accepts ${route.method} only`), { Allow: route.method });
    return true;
  }
  try {
    route.handle(host, req, res, url);
  } catch (error) {
    // A handler bug must cost one request, never the process and everyone else's connections.
    host.log.error({ err: error, path }, 'request handler failed');
    if (!res.headersSent) sendError(res, new HeraldError('internal_error'));
    else res.destroy();
  }
  return true;
}
