// The event page: header with the status dot, then the three live panels. It asks the app
// server where the hub is, then connects: WebSocket, falling back to SSE by itself (or SSE
// only with ?transport=sse, as the team's EventSource fallback did).
import type { TransportMode } from '@herald/client';
import { HeraldProvider } from '@herald/react';
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Announcements } from './Announcements.js';
import { getJson, type EventSummary, type PageConfig } from './api.js';
import { Leaderboard } from './Leaderboard.js';
import { Schedule } from './Schedule.js';
import { StatusDot } from './StatusDot.js';

const requested = new URLSearchParams(location.search).get('transport');
const transport: TransportMode = requested === 'sse' || requested === 'websocket' ? requested : 'auto';
// A scoreboard should come back quickly after a blip, without hammering a hub that is down.
const clientOptions = { transport, backoff: { initial: 250, cap: 5000 } };

function EventPage({ config }: { config: PageConfig }) {
  const [event, setEvent] = useState<EventSummary | undefined>(undefined);
  useEffect(() => {
    void getJson<EventSummary>(`/api/events/${config.eventId}`).then(setEvent);
  }, [config.eventId]);
  return (
    <HeraldProvider url={config.hubUrl} options={clientOptions}>
      <header>
        <h1>
          {event?.name ?? 'Event'}
          <span className="venue">{event?.venue}</span>
        </h1>
        <StatusDot />
      </header>
      <main>
        <Leaderboard eventId={config.eventId} topic={config.topics.results} />
        <Schedule eventId={config.eventId} topic={config.topics.schedule} />
        <Announcements eventId={config.eventId} topic={config.topics.announcements} />
      </main>
    </HeraldProvider>
  );
}

function App() {
  const [config, setConfig] = useState<PageConfig | undefined>(undefined);
  useEffect(() => {
    void getJson<PageConfig>('/api/config').then(setConfig);
  }, []);
  return config === undefined ? <p className="muted">Loading…</p> : <EventPage config={config} />;
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
