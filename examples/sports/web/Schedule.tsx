// Fixtures, kept live from `create`/`update`/`delete` events (the team's schedule_update
// `action`, carried as the event type, so the list hook applies them by id).
import { useLiveList } from '@herald/react';
import { getJson, type Fixture } from './api.js';

const kickOff = (iso: string): string =>
  new Date(iso).toLocaleString(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });

export function Schedule({ eventId, topic }: { eventId: number; topic: string }) {
  const { items, state } = useLiveList<Fixture>({
    topic,
    load: () => getJson(`/api/events/${eventId}/schedule`),
    getKey: (fixture) => fixture.id,
  });
  const fixtures = [...items].sort((a, b) => a.start_at.localeCompare(b.start_at) || a.id - b.id);
  return (
    <section id="schedule" data-state={state}>
      <h2>Schedule</h2>
      <ul>
        {fixtures.map((f) => (
          <li key={f.id} className="fixture" data-fixture={f.id} data-status={f.status}>
            <span>
              <span className="teams">
                {f.home_team.name} {f.home_score === null ? 'vs' : `${f.home_score}–${f.away_score}`} {f.away_team.name}
              </span>
              <br />
              <span className="when">
                {kickOff(f.start_at)} · {f.venue}
              </span>
            </span>
            <span className={`badge ${f.status}`}>{f.status.toLowerCase()}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
