import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JSDOM } from 'jsdom';
// tsx compiles JSX with the classic runtime here (there is no root tsconfig.json to say otherwise), so React must be in scope.
import * as React from 'react';
import { StrictMode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { createClient, type HeraldEvent } from '@herald/client';
import { HeraldProvider, useConnectionState, useLiveList, useTopic } from '../src/index.js';
import { NodeWebSocket, startHub, waitUntil, type RunningHub } from '../../client/test/helpers/setup.js';

// React renders into jsdom; the client talks to a real hub over real sockets.
const dom = new JSDOM('<!doctype html><html><body></body></html>', { url: 'http://localhost/' });
Object.assign(globalThis, { window: dom.window, document: dom.window.document });

interface Todo {
  id: number;
  text: string;
}

/** The app's own API, here an array the test changes before publishing, as a server would. */
const database: Todo[] = [
  { id: 1, text: 'one' },
  { id: 2, text: 'two' },
];

function TodoList({ loads }: { loads: { count: number } }): React.ReactNode {
  const state = useConnectionState();
  const list = useLiveList<Todo>({
    topic: 'todos',
    getKey: (todo) => todo.id,
    load: async () => {
      loads.count++;
      return structuredClone(database);
    },
  });
  return (
    <div>
      <span id="state">{state}</span>
      <span id="list-state">{list.state}</span>
      <ul>
        {list.items.map((todo) => (
          <li key={todo.id}>{todo.text}</li>
        ))}
      </ul>
    </div>
  );
}

const text = (selector: string): string => document.querySelector(selector)?.textContent ?? '';
const items = (): string[] => [...document.querySelectorAll('li')].map((li) => li.textContent ?? '');

describe('React hooks (jsdom, real hub)', () => {
  let running: RunningHub;
  let root: Root;
  let container: HTMLElement;

  before(async () => {
    running = await startHub({ heartbeatInterval: 500 });
  });
  after(async () => {
    await running.close();
    dom.window.close();
  });

  it('useLiveList and useConnectionState under StrictMode: one connection, loaded once, live, cleaned up on unmount', async (t) => {
    container = document.createElement('div');
    document.body.append(container);
    root = createRoot(container);
    t.after(() => root.unmount());
    const loads = { count: 0 };
    root.render(
      <StrictMode>
        <HeraldProvider url={running.url} options={{ WebSocket: NodeWebSocket }}>
          <TodoList loads={loads} />
        </HeraldProvider>
      </StrictMode>,
    );
    await waitUntil(() => text('#state') === 'connected' && text('#list-state') === 'ready', 'connected and loaded');
    assert.deepEqual(items(), ['one', 'two']);
    assert.equal(running.hub.connectionCount, 1, 'StrictMode double mounting left one connection');

    database.push({ id: 3, text: 'three' });
    await running.hub.publish({ topic: 'todos', type: 'create', data: { id: 3, text: 'three' } });
    await running.hub.publish({ topic: 'todos', type: 'update', data: { id: 1, text: 'ONE' } });
    await running.hub.publish({ topic: 'todos', type: 'delete', data: { id: 2 } });
    await waitUntil(() => items().join() === 'ONE,three', `live changes (have ${items().join()})`);
    assert.equal(loads.count, 1, 'loaded once');

    root.unmount();
    await waitUntil(() => running.hub.connectionCount === 0, 'the connection closed on unmount');
  });

  it('useTopic calls the latest callback and unsubscribes on unmount', async (t) => {
    const client = createClient({ url: running.url, WebSocket: NodeWebSocket });
    // Close even when an assertion fails, or the open socket keeps the test process alive.
    t.after(() => client.close());
    const seen: string[] = [];
    function Feed({ label }: { label: string }): React.ReactNode {
      useTopic<number>('feed/*', (event: HeraldEvent<number>) => seen.push(`${label}:${event.data}`), {
        onSubscribed: () => seen.push('subscribed'),
      });
      return <span>{label}</span>;
    }
    container = document.createElement('div');
    root = createRoot(container);
    t.after(() => root.unmount());
    root.render(
      <StrictMode>
        <HeraldProvider client={client}>
          <Feed label="a" />
        </HeraldProvider>
      </StrictMode>,
    );
    await waitUntil(() => seen.includes('subscribed'), 'subscribed');
    await running.hub.publish({ topic: 'feed/x', data: 1 });
    await waitUntil(() => seen.includes('a:1'), 'first event');
    root.render(
      <StrictMode>
        <HeraldProvider client={client}>
          <Feed label="b" />
        </HeraldProvider>
      </StrictMode>,
    );
    await waitUntil(() => container.textContent === 'b', 'the re-render with the new callback');
    await running.hub.publish({ topic: 'feed/x', data: 2 });
    await waitUntil(() => seen.includes('b:2'), 'second event, through the new callback');
    assert.deepEqual(
      seen.filter((s) => s !== 'subscribed'),
      ['a:1', 'b:2'],
      'each event once, StrictMode or not',
    );
    root.unmount();
    await waitUntil(() => running.hub.subscriptionCount === 0, 'the hub holds no subscription after unmount');
    assert.equal(client.state, 'connected', 'an app-owned client stays open');
    client.close();
  });
});
