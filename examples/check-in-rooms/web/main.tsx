// The check-in rooms page: log in as a supervisor, then see the rooms of your groups live.
// The Herald client gets its token from the app server before every connection and
// refreshes it before it expires; its backoff is the team's: 1, 2, 4, 8, 16 s, then failed.
import { HeraldProvider } from '@herald/react';
import { StrictMode, useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { getConfig, login, mintToken, type PageConfig } from './api.js';
import { StatusDot } from './StatusDot.js';
import { Supervision } from './Supervision.js';

function Login({ config, onLogin }: { config: PageConfig; onLogin: (session: string) => void }) {
  return (
    <form id="login" onSubmit={(event) => event.preventDefault()}>
      <span className="muted">Log in as</span>
      {config.supervisors.map((supervisor) => (
        <button key={supervisor.id} data-supervisor={supervisor.id} onClick={() => void login(supervisor.id).then(onLogin)}>
          {supervisor.name}
        </button>
      ))}
    </form>
  );
}

function App() {
  const [config, setConfig] = useState<PageConfig | undefined>(undefined);
  const [session, setSession] = useState<string | undefined>(undefined);
  useEffect(() => {
    void getConfig().then(setConfig);
  }, []);
  const getToken = useMemo(() => (session === undefined ? undefined : () => mintToken(session)), [session]);
  const clientOptions = useMemo(
    () => (getToken === undefined ? undefined : { getToken, backoff: { initial: 1000, factor: 2, cap: 16000, jitter: 'none' as const }, maxAttempts: 5 }),
    [getToken],
  );
  if (config === undefined) return <p className="muted">Loading…</p>;
  if (getToken === undefined || clientOptions === undefined) return <Login config={config} onLogin={setSession} />;
  return (
    <HeraldProvider url={config.hubUrl} options={clientOptions}>
      <header>
        <h1>Check-in rooms</h1>
        <StatusDot />
      </header>
      <Supervision getToken={getToken} />
    </HeraldProvider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
