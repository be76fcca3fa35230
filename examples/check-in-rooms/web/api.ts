// The page's view of the app server's API.

export interface Supervisor {
  id: string;
  name: string;
}

interface Room {
  id: string;
  name: string;
}

export interface Group {
  id: string;
  name: string;
  rooms: Room[];
}

export interface Visit {
  student_id: string;
  student_name: string;
  room_id: string;
  checked_in_at: string;
}

export interface PageConfig {
  hubUrl: string;
  supervisors: Supervisor[];
}

async function call<T>(method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status}`);
  return (await response.json()) as T;
}

export const getConfig = (): Promise<PageConfig> => call('GET', '/api/config');

/** Logs in as a supervisor; the session is what the page trades for short-lived tokens. */
export async function login(supervisor: string): Promise<string> {
  return (await call<{ session: string }>('POST', '/api/login', {}, { supervisor })).session;
}

/** A fresh token for the session: the app server mints one each time. */
export async function mintToken(session: string): Promise<string> {
  return (await call<{ token: string }>('POST', '/api/token', { 'x-session': session })).token;
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

export const getMe = (token: string): Promise<{ supervisor: Supervisor; groups: Group[] }> => call('GET', '/api/me', bearer(token));
export const getVisits = (token: string, groupId: string): Promise<Visit[]> => call('GET', `/api/groups/${groupId}/visits`, bearer(token));
