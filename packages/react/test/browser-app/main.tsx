// The page the browser test builds with Vite: the five-line usage of the README,
// plus ids the test reads.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { HeraldProvider, useConnectionState, useLiveList } from '@herald/react';

interface Todo {
  id: number;
  text: string;
}

function Todos() {
  const state = useConnectionState();
  const { items, state: listState } = useLiveList<Todo>({
    topic: 'todos',
    load: () => fetch('/api/todos').then((r) => r.json()),
    getKey: (todo) => todo.id,
  });
  return (
    <main>
      <h1>
        <span className={`dot ${state}`} />
        <span id="state">{state}</span> · list <span id="list-state">{listState}</span> · <span id="count">{items.length}</span> items
      </h1>
      <ul id="items">
        {items.map((todo) => (
          <li key={todo.id}>{todo.text}</li>
        ))}
      </ul>
    </main>
  );
}

interface Alert {
  id: number;
  session_id: string;
  resolved: boolean;
}

// The people-counter view: open alerts of one session, fed by change events
// (`herald pg triggers` shape), no getKey (the rows' id), a filter on the hub.
function OpenAlerts() {
  const { items } = useLiveList<Alert>({
    topic: 'alerts',
    filter: "data.session_id = 's1' and data.resolved = false",
    load: () => fetch('/api/alerts').then((r) => r.json()),
  });
  return (
    <ul id="alerts">
      {items.map((alert) => (
        <li key={alert.id}>alert-{alert.id}</li>
      ))}
    </ul>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    {/* Fast retries so the test's outage ends quickly. */}
    <HeraldProvider url="/hub" options={{ backoff: { initial: 100, cap: 500 } }}>
      <Todos />
      <OpenAlerts />
    </HeraldProvider>
  </StrictMode>,
);
