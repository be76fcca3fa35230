// The app server's HTTP side: login and token minting for the page, the supervisor's
// groups and visits (checked against the bearer token), the check-in endpoints the
// room devices call, supervision changes, and the hub's authorization hook.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readJsonObject, sendError, sendJson } from '../../shared/http.js';
import { serveFile } from '../../shared/page.js';
import type { HttpPublisher } from '../../shared/publisher.js';
import { answerHook } from './authorize-hook.js';
import { groupTopic, type School } from './school.js';
import type { TokenIssuer } from './tokens.js';

export interface AppContext {
  school: School;
  tokens: TokenIssuer;
  publisher: HttpPublisher;
  /** The hook's path, with a secret only the hub is given. */
  hookPath: string;
  hubUrl: string;
  pageDir: string;
  /** Login sessions: session id to supervisor id. The page trades its session for fresh tokens. */
  sessions: Map<string, string>;
}

export async function handleRequest(app: AppContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://app');
  const path = url.pathname;
  try {
    if (path === app.hookPath && req.method === 'POST') return sendJson(res, 200, answerHook(app.school, await readJsonObject(req)));
    if (path === '/api/config') {
      const supervisors = [...app.school.supervisors.values()];
      return sendJson(res, 200, { hubUrl: app.hubUrl, supervisors });
    }
    if (path === '/api/login' && req.method === 'POST') return sendJson(res, 200, login(app, await readJsonObject(req)));
    if (path === '/api/token' && req.method === 'POST') {
      const supervisorId = app.sessions.get(String(req.headers['x-session'] ?? ''));
      if (supervisorId === undefined) throw new HttpError(401, 'log in first');
      return sendJson(res, 200, { token: await app.tokens.mint(supervisorId) });
    }
    if (path === '/api/me' && req.method === 'GET') {
      const supervisorId = await app.tokens.verify(req.headers.authorization);
      return sendJson(res, 200, { supervisor: app.school.supervisors.get(supervisorId), groups: app.school.groupsOf(supervisorId) });
    }
    const visits = /^\/api\/groups\/([\w-]+)\/visits$/.exec(path);
    if (visits !== null && req.method === 'GET') {
      const supervisorId = await app.tokens.verify(req.headers.authorization);
      if (!app.school.supervises(supervisorId, visits[1]!)) throw new HttpError(403, `you do not supervise group ${visits[1]}`);
      return sendJson(res, 200, app.school.visits(visits[1]!));
    }
    if (await changeData(app, path, req, res)) return;
    if (path.startsWith('/api/') || path.startsWith('/hook/')) return sendJson(res, 404, { error: 'not found' });
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'method not allowed' });
    return await serveFile(app.pageDir, path, res);
  } catch (error) {
    sendError(res, error, 'check-in rooms app');
  }
}

function login(app: AppContext, body: Record<string, unknown>): { session: string } {
  // A demo login: picking a supervisor is enough. A real app checks a password or SSO here.
  const supervisorId = body['supervisor'];
  if (typeof supervisorId !== 'string' || !app.school.supervisors.has(supervisorId)) throw new HttpError(401, 'unknown supervisor');
  const session = randomBytes(16).toString('hex');
  app.sessions.set(session, supervisorId);
  return { session };
}

/**
 * The endpoints that change data, as the room devices and the office call them (no
 * login in this example). Each change is saved, then published to the group's topic
 * with the team's event types.
 */
async function changeData(app: AppContext, path: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const checkIn = /^\/api\/groups\/([\w-]+)\/checkins$/.exec(path);
  if (checkIn !== null && req.method === 'POST') {
    const groupId = checkIn[1]!;
    const visit = app.school.checkIn(groupId, await readJsonObject(req));
    app.publisher.publish({ topic: groupTopic(groupId), type: 'student_checkin', data: visit });
    sendJson(res, 201, visit);
    return true;
  }
  const checkOut = /^\/api\/groups\/([\w-]+)\/checkins\/([\w-]+)$/.exec(path);
  if (checkOut !== null && req.method === 'DELETE') {
    const [, groupId, studentId] = checkOut as unknown as [string, string, string];
    if (!app.school.checkOut(groupId, studentId)) throw new HttpError(404, `${studentId} is not checked in to ${groupId}`);
    app.publisher.publish({ topic: groupTopic(groupId), type: 'student_checkout', data: { student_id: studentId } });
    res.writeHead(204).end();
    return true;
  }
  const supervision = /^\/api\/supervisors\/([\w-]+)\/groups\/([\w-]+)$/.exec(path);
  if (supervision !== null && (req.method === 'PUT' || req.method === 'DELETE')) {
    const [, supervisorId, groupId] = supervision as unknown as [string, string, string];
    if (req.method === 'PUT') app.school.grant(supervisorId, groupId);
    else if (!app.school.revoke(supervisorId, groupId)) throw new HttpError(404, `${supervisorId} does not supervise ${groupId}`);
    // The hub learns of it at its next re-check (--reauthorize-interval) and ends the subscription.
    res.writeHead(204).end();
    return true;
  }
  return false;
}
