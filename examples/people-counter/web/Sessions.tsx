// Every session with its counts: the `sessions` table, whole (`sessions/**`, since the
// triggers publish each row to `sessions/<id>`). A movement updates its session's row in place.
import { useLiveList } from '@herald/react';
import { listSessions, type Session } from './api.js';

export function Sessions({ selected }: { selected: string }) {
  const { items } = useLiveList<Session>({ topic: 'sessions/**', load: listSessions });
  return (
    <section id="sessions" className="cards">
      {items.map((session) => (
        <article key={session.id} data-session={session.id} className={session.id === selected ? 'card selected' : 'card'}>
          <h2>{session.name}</h2>
          <p className="big">
            <span className="count">{session.current_count}</span>
            <span className="muted"> / {session.capacity}</span>
          </p>
          <p className="muted">
            in <span className="in">{session.people_in}</span> · out <span className="out">{session.people_out}</span>
          </p>
        </article>
      ))}
    </section>
  );
}
