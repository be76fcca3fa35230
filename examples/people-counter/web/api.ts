// The page's view of the app server's API: the rows of the team's four tables, and the writes.

export interface Session {
  id: string;
  name: string;
  capacity: number;
  people_in: number;
  people_out: number;
  current_count: number;
}

export interface Movement {
  id: number;
  session_id: string;
  direction: 'in' | 'out';
  count: number;
  created_at: string;
}

export interface Alert {
  id: number;
  session_id: string;
  level: string;
  message: string;
  resolved: boolean;
  created_at: string;
}

export interface Metrics {
  id: string;
  session_id: string;
  current_count: number;
  occupancy_percent: number;
  movements_last_minute: number;
  updated_at: string;
}

export interface PageConfig {
  hubUrl: string;
  sessionId: string;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status}`);
  return (response.status === 204 ? undefined : await response.json()) as T;
}

const session = (id: string): string => `/api/sessions/${encodeURIComponent(id)}`;

export const getConfig = (): Promise<PageConfig> => call('GET', '/api/config');
export const listSessions = (): Promise<Session[]> => call('GET', '/api/sessions');
export const listMovements = (sessionId: string): Promise<Movement[]> => call('GET', `${session(sessionId)}/movements`);
export const listUnresolvedAlerts = (sessionId: string): Promise<Alert[]> => call('GET', `${session(sessionId)}/alerts?resolved=false`);
export const listMetrics = (sessionId: string): Promise<Metrics[]> => call('GET', `${session(sessionId)}/metrics`);
export const move = (sessionId: string, direction: 'in' | 'out', count = 1): Promise<Movement> =>
  call('POST', `${session(sessionId)}/movements`, { direction, count });
export const deleteMovement = (id: number): Promise<void> => call('DELETE', `/api/movements/${id}`);
export const resolveAlert = (id: number): Promise<Alert> => call('POST', `/api/alerts/${id}/resolve`);
export const simulate = (): Promise<Movement> => call('POST', '/api/simulate');

/** A SQL literal for a filter: the session ids come from the app, but a quote must not end the string. */
export const quoted = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/** `created_at` as a time of day; rows from the API and from the triggers spell timestamps differently. */
export const timeOf = (stamp: string): string => new Date(stamp).toLocaleTimeString();
