// The app server's HTTP side, with the team's endpoints: list, create, delete one,
// delete all; each change is saved first and then announced on the Redis channel.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readJsonObject, sendError, sendJson } from '../../shared/http.js';
import { serveFile } from '../../shared/page.js';
import type { AnswerStore } from './answers.js';
import type { RedisNotifier } from './notifier.js';

/** What the page needs to connect: the hub's URL and the topic the bridge publishes to. */
export interface PageConfig {
  hubUrl: string;
  topic: string;
}

export async function handleRequest(
  store: AnswerStore,
  notifier: RedisNotifier,
  config: PageConfig,
  pageDir: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://app');
  try {
    if (url.pathname === '/api/config') return sendJson(res, 200, config);
    if (url.pathname === '/api/team-answers/' && req.method === 'GET') return sendJson(res, 200, store.list());
    if (url.pathname === '/api/team-answers/' && req.method === 'POST') {
      const answer = store.create(await readJsonObject(req));
      await notifier.created(answer);
      return sendJson(res, 201, answer);
    }
    if (url.pathname === '/api/team-answers/delete-all/' && req.method === 'DELETE') {
      const ids = store.deleteAll(url.searchParams.get('round') ?? undefined);
      await notifier.deleted(ids);
      return sendJson(res, 200, { deleted: ids });
    }
    const one = /^\/api\/team-answers\/(\d+)\/$/.exec(url.pathname);
    if (one !== null && req.method === 'DELETE') {
      const id = Number(one[1]);
      if (!store.delete(id)) throw new HttpError(404, `no team answer ${id}`);
      await notifier.deleted([id]);
      return void res.writeHead(204).end();
    }
    if (url.pathname.startsWith('/api/')) return sendJson(res, 404, { error: 'not found' });
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'method not allowed' });
    return await serveFile(pageDir, url.pathname, res);
  } catch (error) {
    sendError(res, error, 'team answers app');
  }
}
