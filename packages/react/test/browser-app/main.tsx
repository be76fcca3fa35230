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

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    {/* Fast retries so the test's outage ends quickly. */}
    <HeraldProvider url="/hub" options={{ backoff: { initial: 100, cap: 500 } }}>
      <Todos />
    </HeraldProvider>
  </StrictMode>,
);
