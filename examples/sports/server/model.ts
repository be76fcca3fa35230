// The sports app's data, owned by the app server (in memory): one event with its teams,
// fixtures, results and announcements. The shapes follow the team's API: snake_case
// fields, a fixture's teams as {id, name}, a leaderboard row per team.

interface Team {
  id: number;
  name: string;
}

export type FixtureStatus = 'SCHEDULED' | 'LIVE' | 'FINISHED' | 'POSTPONED';

export interface Fixture {
  id: number;
  home_team: Team;
  away_team: Team;
  start_at: string;
  venue: string;
  status: FixtureStatus;
  /** Set once a result is recorded. */
  home_score: number | null;
  away_score: number | null;
}

export interface LeaderboardRow {
  team_id: number;
  team_name: string;
  /** Played, won, drawn, lost, goals for, goals against, goal difference, points. */
  p: number;
  w: number;
  d: number;
  l: number;
  gf: number;
  ga: number;
  gd: number;
  pts: number;
}

export type Priority = 'low' | 'normal' | 'high';

export interface Announcement {
  id: number;
  title: string;
  message: string;
  priority: Priority;
  timestamp: string;
}

export interface SportsEvent {
  id: number;
  name: string;
  venue: string;
  teams: Team[];
  fixtures: Fixture[];
  announcements: Announcement[];
}

/** Points for a win and a draw, as in the team's league rules. */
const WIN_POINTS = 3;
const DRAW_POINTS = 1;

/** The table of `event`: every team, from the finished fixtures, best first (points, goal difference, goals for, name). */
export function leaderboard(event: SportsEvent): LeaderboardRow[] {
  const rows = new Map<number, LeaderboardRow>(
    event.teams.map((team) => [team.id, { team_id: team.id, team_name: team.name, p: 0, w: 0, d: 0, l: 0, gf: 0, ga: 0, gd: 0, pts: 0 }]),
  );
  for (const fixture of event.fixtures) {
    if (fixture.status !== 'FINISHED' || fixture.home_score === null || fixture.away_score === null) continue;
    const home = rows.get(fixture.home_team.id);
    const away = rows.get(fixture.away_team.id);
    if (home === undefined || away === undefined) continue;
    record(home, fixture.home_score, fixture.away_score);
    record(away, fixture.away_score, fixture.home_score);
  }
  return [...rows.values()].sort((a, b) => b.pts - a.pts || b.gd - a.gd || b.gf - a.gf || a.team_name.localeCompare(b.team_name));
}

function record(row: LeaderboardRow, scored: number, conceded: number): void {
  row.p++;
  row.gf += scored;
  row.ga += conceded;
  row.gd = row.gf - row.ga;
  if (scored > conceded) row.w++;
  else if (scored === conceded) row.d++;
  else row.l++;
  row.pts = row.w * WIN_POINTS + row.d * DRAW_POINTS;
}

/** A small league to start from: four teams, a round of fixtures a day apart, one welcome note. */
export function seedEvent(now = new Date()): SportsEvent {
  const teams: Team[] = [
    { id: 1, name: 'Harbour Hawks' },
    { id: 2, name: 'Northside Rovers' },
    { id: 3, name: 'Valley United' },
    { id: 4, name: 'Riverside Athletic' },
  ];
  const [a, b, c, d] = teams as [Team, Team, Team, Team];
  const pairs: [Team, Team][] = [
    [a, b],
    [c, d],
    [a, c],
    [b, d],
    [a, d],
    [b, c],
  ];
  const day = 24 * 60 * 60 * 1000;
  const fixtures = pairs.map(([home, away], i): Fixture => ({
    id: 101 + i,
    home_team: home,
    away_team: away,
    start_at: new Date(now.getTime() + (Math.floor(i / 2) + 1) * day).toISOString(),
    venue: i % 2 === 0 ? 'Pitch 1' : 'Pitch 2',
    status: 'SCHEDULED',
    home_score: null,
    away_score: null,
  }));
  const welcome: Announcement = {
    id: 1,
    title: 'Welcome',
    message: 'Results and schedule changes appear here as they happen.',
    priority: 'normal',
    timestamp: now.toISOString(),
  };
  return { id: 1, name: 'City Cup 2026', venue: 'Memorial Park', teams, fixtures, announcements: [welcome] };
}
