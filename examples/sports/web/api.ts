// The page's view of the app server's JSON API (the same shapes the server's model.ts defines).

interface Team {
  id: number;
  name: string;
}

export interface Fixture {
  id: number;
  home_team: Team;
  away_team: Team;
  start_at: string;
  venue: string;
  status: 'SCHEDULED' | 'LIVE' | 'FINISHED' | 'POSTPONED';
  home_score: number | null;
  away_score: number | null;
}

export interface LeaderboardRow {
  team_id: number;
  team_name: string;
  p: number;
  w: number;
  d: number;
  l: number;
  gf: number;
  ga: number;
  gd: number;
  pts: number;
}

export interface Announcement {
  id: number;
  title: string;
  message: string;
  priority: 'low' | 'normal' | 'high';
  timestamp: string;
}

export interface EventSummary {
  id: number;
  name: string;
  venue: string;
  teams: Team[];
}

export interface PageConfig {
  hubUrl: string;
  eventId: number;
  topics: { results: string; schedule: string; announcements: string };
}

/** GETs JSON from the app server; a failed answer rejects, so a live list shows `error`. */
export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return (await response.json()) as T;
}
