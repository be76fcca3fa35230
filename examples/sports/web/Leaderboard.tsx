// The live table. Each `results_update` carries the whole table (the team's message
// format), so applying one replaces the rows; the first rows come from the API.
import type { HeraldEvent } from '@herald/client';
import { useLiveList } from '@herald/react';
import { getJson, type LeaderboardRow } from './api.js';

interface ResultsUpdate {
  leaderboard: LeaderboardRow[];
}

const replaceTable = (rows: LeaderboardRow[], event: HeraldEvent<unknown>): LeaderboardRow[] =>
  event.type === 'results_update' ? (event.data as ResultsUpdate).leaderboard : rows;

export function Leaderboard({ eventId, topic }: { eventId: number; topic: string }) {
  const { items, state } = useLiveList<LeaderboardRow>({
    topic,
    load: () => getJson(`/api/events/${eventId}/leaderboard`),
    getKey: (row) => row.team_id,
    apply: replaceTable,
  });
  return (
    <section id="leaderboard" data-state={state}>
      <h2>Leaderboard</h2>
      <table>
        <thead>
          <tr>
            <th>#</th>
            <th>Team</th>
            <th>P</th>
            <th>W</th>
            <th>D</th>
            <th>L</th>
            <th>GD</th>
            <th>Pts</th>
          </tr>
        </thead>
        <tbody>
          {items.map((row, i) => (
            <tr key={row.team_id} data-team={row.team_id}>
              <td>{i + 1}</td>
              <td className="team">{row.team_name}</td>
              <td>{row.p}</td>
              <td>{row.w}</td>
              <td>{row.d}</td>
              <td>{row.l}</td>
              <td>{row.gd > 0 ? `+${row.gd}` : row.gd}</td>
              <td className="pts">{row.pts}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
