// The people counter dashboard: four live views of four tables, all on one Herald
// connection (the team opened one EventSource per table).
import { HeraldProvider } from '@herald/react';
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Alerts } from './Alerts.js';
import { getConfig, move, simulate, type PageConfig } from './api.js';
import { Metrics } from './Metrics.js';
import { Movements } from './Movements.js';
import { Sessions } from './Sessions.js';
import { StatusDot } from './StatusDot.js';

const clientOptions = { backoff: { initial: 250, cap: 5000 } };

function Controls({ sessionId }: { sessionId: string }) {
  return (
    <div className="toolbar" id="controls">
      <button id="move-in" onClick={() => void move(sessionId, 'in')}>
        +1 in
      </button>
      <button id="move-out" onClick={() => void move(sessionId, 'out')}>
        −1 out
      </button>
      <button id="simulate" className="secondary" onClick={() => void simulate()}>
        Simulate a sensor reading
      </button>
    </div>
  );
}

function App() {
  const [config, setConfig] = useState<PageConfig | undefined>(undefined);
  useEffect(() => {
    void getConfig().then(setConfig);
  }, []);
  if (config === undefined) return <p className="muted">Loading…</p>;
  return (
    <HeraldProvider url={config.hubUrl} options={clientOptions}>
      <header>
        <h1>People counter</h1>
        <StatusDot />
      </header>
      <Sessions selected={config.sessionId} />
      <Controls sessionId={config.sessionId} />
      <Metrics sessionId={config.sessionId} />
      <div className="columns">
        <Movements sessionId={config.sessionId} />
        <Alerts sessionId={config.sessionId} />
      </div>
    </HeraldProvider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
