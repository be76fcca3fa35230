// The team answers page. It connects over SSE only, as the team's EventSource page did
// (Herald's client would otherwise prefer WebSocket).
import { HeraldProvider } from '@herald/react';
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { AnswerForm } from './AnswerForm.js';
import { Answers } from './Answers.js';
import { getConfig, type PageConfig } from './api.js';
import { StatusDot } from './StatusDot.js';

const clientOptions = { transport: 'sse' as const, backoff: { initial: 250, cap: 5000 } };

function App() {
  const [config, setConfig] = useState<PageConfig | undefined>(undefined);
  useEffect(() => {
    void getConfig().then(setConfig);
  }, []);
  if (config === undefined) return <p className="muted">Loading…</p>;
  return (
    <HeraldProvider url={config.hubUrl} options={clientOptions}>
      <header>
        <h1>Team answers</h1>
        <StatusDot />
      </header>
      <AnswerForm />
      <Answers topic={config.topic} />
    </HeraldProvider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
