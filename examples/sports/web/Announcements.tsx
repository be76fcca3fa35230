// Announcements, newest first; each `create` event adds one.
import { useLiveList } from '@herald/react';
import { getJson, type Announcement } from './api.js';

export function Announcements({ eventId, topic }: { eventId: number; topic: string }) {
  const { items, state } = useLiveList<Announcement>({
    topic,
    load: () => getJson(`/api/events/${eventId}/announcements`),
    getKey: (a) => a.id,
  });
  const newestFirst = [...items].sort((a, b) => b.id - a.id);
  return (
    <section id="announcements" data-state={state}>
      <h2>Announcements</h2>
      <ul>
        {newestFirst.map((a) => (
          <li key={a.id} className={`announcement ${a.priority}`} data-announcement={a.id}>
            <strong className="title">{a.title}</strong> <span className="when">{new Date(a.timestamp).toLocaleTimeString()}</span>
            <div className="message">{a.message}</div>
          </li>
        ))}
      </ul>
    </section>
  );
}
