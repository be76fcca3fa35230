// The app server's HTTP side: the JSON API the page loads from and the scorekeeper writes
// to, and the built page itself. Paths follow the team's `/api/events/{id}/…`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveFile } from '../../shared/page.js';
import { HttpError, readJsonObject, sendError, sendJson } from '../../shared/http.js';
import type { EventService, FixtureChange } from './event-service.js';
import type { FixtureStatus, Priority } from './model.js';

/** What the page needs to know to connect: the hub's URL and the event it shows. */
export interface PageConfig {
  hubUrl: string;
  eventId: number;
  topics: { results: string; schedule: string; announcements: string };
}

/** Answers one request: the API under `/api/`, otherwise a file of the built page in `pageDir`. */
export async function handleRequest(service: EventService, config: PageConfig, pageDir: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://app');
  const base = `/api/events/${service.event.id}`;
  try {
    if (url.pathname === '/api/config') return sendJson(res, 200, config);
    if (url.pathname === base && req.method === 'GET') {
      const { id, name, venue, teams } = service.event;
      return sendJson(res, 200, { id, name, venue, teams });
    }
    if (url.pathname === `${base}/leaderboard` && req.method === 'GET') return sendJson(res, 200, service.leaderboard());
    if (url.pathname === `${base}/schedule` && req.method === 'GET') return sendJson(res, 200, service.schedule());
    if (url.pathname === `${base}/announcements` && req.method === 'GET') return sendJson(res, 200, service.announcements());
    if (url.pathname === `${base}/results` && req.method === 'POST') {
      const body = await readJsonObject(req);
      return sendJson(res, 201, service.recordResult(num(body['fixture_id']), num(body['home_score']), num(body['away_score'])));
    }
    if (url.pathname === `${base}/fixtures` && req.method === 'POST') {
      const body = await readJsonObject(req);
      return sendJson(
        res,
        201,
        service.addFixture(num(body['home_team_id']), num(body['away_team_id']), str(body['start_at']), str(body['venue'] ?? 'Pitch 1')),
      );
    }
    const fixture = new RegExp(`^${base}/fixtures/(\\d+)$`).exec(url.pathname);
    if (fixture !== null && req.method === 'PATCH') {
      const body = await readJsonObject(req);
      return sendJson(res, 200, service.changeFixture(Number(fixture[1]), fixtureChange(body)));
    }
    if (fixture !== null && req.method === 'DELETE') {
      service.removeFixture(Number(fixture[1]));
      return void res.writeHead(204).end();
    }
    if (url.pathname === `${base}/announcements` && req.method === 'POST') {
      const body = await readJsonObject(req);
      return sendJson(res, 201, service.announce(str(body['title']), str(body['message']), (body['priority'] ?? 'normal') as Priority));
    }
    if (url.pathname.startsWith('/api/')) return sendJson(res, 404, { error: 'not found' });
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'method not allowed' });
    return await serveFile(pageDir, url.pathname, res);
  } catch (error) {
    sendError(res, error, 'sports app');
  }
}

/** The fields a PATCH may change; any other field is refused rather than silently ignored. */
function fixtureChange(body: Record<string, unknown>): FixtureChange {
  const change: FixtureChange = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === 'start_at') change.start_at = str(value);
    else if (key === 'venue') change.venue = str(value);
    // The service checks that it is a known status.
    else if (key === 'status') change.status = str(value) as FixtureStatus;
    else throw new HttpError(400, `a fixture change has start_at, venue and status, not ${key}`);
  }
  return change;
}

function num(value: unknown): number {
  if (typeof value !== 'number') throw new HttpError(400, `expected a number, got ${JSON.stringify(value)}`);
  return value;
}

function str(value: unknown): string {
  if (typeof value !== 'string') throw new HttpError(400, `expected a string, got ${JSON.stringify(value)}`);
  return value;
}
