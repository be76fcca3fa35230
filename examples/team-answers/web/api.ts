// The page's view of the app server's API (the team's endpoints).

export interface TeamAnswer {
  id: number;
  video_name: string;
  frame_index: number;
  url: string;
  qa: string;
  query_index: number;
  round: string;
  created_at: string;
}

export interface PageConfig {
  hubUrl: string;
  topic: string;
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

export const getConfig = (): Promise<PageConfig> => call('GET', '/api/config');
export const listAnswers = (): Promise<TeamAnswer[]> => call('GET', '/api/team-answers/');
export const createAnswer = (answer: Pick<TeamAnswer, 'video_name' | 'frame_index' | 'url' | 'qa'>): Promise<TeamAnswer> =>
  call('POST', '/api/team-answers/', answer);
export const deleteAnswer = (id: number): Promise<void> => call('DELETE', `/api/team-answers/${id}/`);
export const deleteAll = (): Promise<{ deleted: number[] }> => call('DELETE', '/api/team-answers/delete-all/');
