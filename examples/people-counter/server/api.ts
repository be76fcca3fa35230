// The app server's HTTP side: the loads the page's live lists start from (the team's
// four per-table reads, with their `session_id` and `resolved` parameters), and the
// writes a door sensor, the simulator or a supervisor makes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJsonObject, sendError, sendJson } from '../../shared/http.js';
import { serveFile } from '../../shared/page.js';
import type { PeopleCounter } from './counter.js';
import type { Simulator } from './simulator.js';

/** What the page needs to connect: the hub's URL and the session it shows. */
interface PageConfig {
  hubUrl: string;
  sessionId: string;
}

export interface AppContext {
  counter: PeopleCounter;
  simulator: Simulator;
  config: PageConfig;
  pageDir: string;
}

export async function handleRequest(app: AppContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://app');
  const get = req.method === 'GET';
  const post = req.method === 'POST';
  try {
    if (url.pathname === '/api/config') return sendJson(res, 200, app.config);
    if (url.pathname === '/api/sessions' && get) return sendJson(res, 200, await app.counter.sessions());
    if (url.pathname === '/api/simulate' && post) return sendJson(res, 201, await app.simulator.step());
    const session = /^\/api\/sessions\/([\w-]+)\/(movements|alerts|metrics)$/.exec(url.pathname);
    if (session !== null) {
      const [, id, what] = session as unknown as [string, string, string];
      if (what === 'movements' && post) {
        const body = await readJsonObject(req);
        return sendJson(res, 201, await app.counter.move(id, body['direction'], body['count'] ?? 1));
      }
      if (what === 'movements' && get) return sendJson(res, 200, await app.counter.movements(id));
      if (what === 'metrics' && get) return sendJson(res, 200, await app.counter.metrics(id));
      if (what === 'alerts' && get) {
        const resolved = url.searchParams.get('resolved');
        return sendJson(res, 200, await app.counter.alerts(id, resolved === null ? undefined : resolved === 'true'));
      }
    }
    const movement = /^\/api\/movements\/(\d+)$/.exec(url.pathname);
    if (movement !== null && req.method === 'DELETE') {
      await app.counter.deleteMovement(Number(movement[1]));
      return void res.writeHead(204).end();
    }
    const alert = /^\/api\/alerts\/(\d+)\/resolve$/.exec(url.pathname);
    if (alert !== null && post) return sendJson(res, 200, await app.counter.resolveAlert(Number(alert[1])));
    if (url.pathname.startsWith('/api/')) return sendJson(res, 404, { error: 'not found' });
    if (!get) return sendJson(res, 405, { error: 'method not allowed' });
    return await serveFile(app.pageDir, url.pathname, res);
  } catch (error) {
    sendError(res, error, 'people counter app');
  }
}
