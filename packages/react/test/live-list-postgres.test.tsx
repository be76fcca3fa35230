// useLiveList over `herald pg triggers` change capture, as the people-counter team
// uses it: a real hub relaying a real Postgres outbox, React in jsdom, both
// transports. Views of the same table with different filters share one client.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JSDOM } from 'jsdom';
// tsx compiles JSX with the classic runtime here, so React must be in scope.
import * as React from 'react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createClient } from '@herald/client';
import { HeraldProvider, useLiveList, useTopic } from '../src/index.js';
import { NodeWebSocket, waitUntil } from '../../client/test/helpers/setup.js';
import { captureInstallSql, OUTBOX_INSTALL_SQL } from '../../server/src/index.js';
import { createTestSchema, outboxPublish, postgresSkipReason, startRelayHub, type RelayHub, type TestSchema } from '../../server/test/helpers/postgres.js';

const skip = await postgresSkipReason();

const dom = new JSDOM('<!doctype html><html><body></body></html>', { url: 'http://localhost/' });
Object.assign(globalThis, { window: dom.window, document: dom.window.document });

interface Alert {
  id: number;
  session_id: string;
  resolved: boolean;
}

/** Each view: its filter for the hub, and the same view as SQL for `load`. */
const VIEWS = {
  open: { filter: "data.session_id = 's1' and data.resolved = false", where: "session_id = 's1' AND NOT resolved" },
  resolved: { filter: "data.resolved = true or data.session_id = 'none'", where: 'resolved' },
  all: { filter: undefined, where: 'true' },
} as const;

function AlertList({ s, view, transport }: { s: TestSchema; view: keyof typeof VIEWS; transport: string }): React.ReactNode {
  const { filter, where } = VIEWS[view];
  const list = useLiveList<Alert>({
    topic: 'alerts',
    ...(filter === undefined ? {} : { filter }),
    load: async () => (await s.query(`SELECT id, session_id, resolved FROM alerts WHERE ${where} ORDER BY id`)).rows as Alert[],
  });
  return (
    <ul id={`${transport}-${view}`} data-state={list.state}>
      {list.items.map((alert) => (
        <li key={alert.id}>{alert.id}</li>
      ))}
    </ul>
  );
}

const shown = (id: string): string => [...(document.getElementById(id)?.querySelectorAll('li') ?? [])].map((li) => li.textContent).join(',');

describe('useLiveList over Postgres change capture (jsdom, real hub, real Postgres)', { skip }, () => {
  let s: TestSchema;
  let relay: RelayHub;
  before(async () => {
    s = await createTestSchema();
    await s.query('CREATE TABLE alerts (id int PRIMARY KEY, session_id text NOT NULL, resolved boolean NOT NULL DEFAULT false)');
    await s.query(OUTBOX_INSTALL_SQL + captureInstallSql([{ table: 'alerts' }]));
    await s.query(`INSERT INTO alerts VALUES (1, 's1', false), (2, 's2', false)`);
    relay = await startRelayHub(s.url);
  });
  after(async () => {
    await relay?.running.close();
    await s?.drop();
    dom.window.close();
  });

  it(
    'inserts, updates, rows leaving and entering a filter, deletes and bulk deletes keep every view exact, over WebSocket and SSE',
    { timeout: 60_000 },
    async (t) => {
      const clients = (['websocket', 'sse'] as const).map((transport) => ({
        transport,
        client: createClient({ url: relay.running.url, transport, WebSocket: NodeWebSocket, backoff: { initial: 20, cap: 200 } }),
      }));
      const container = document.createElement('div');
      document.body.append(container);
      const root = createRoot(container);
      t.after(() => {
        root.unmount();
        for (const { client } of clients) client.close();
      });
      root.render(
        <StrictMode>
          {clients.map(({ transport, client }) => (
            <HeraldProvider key={transport} client={client}>
              {(Object.keys(VIEWS) as Array<keyof typeof VIEWS>).map((view) => (
                <AlertList key={view} s={s} view={view} transport={transport} />
              ))}
            </HeraldProvider>
          ))}
        </StrictMode>,
      );
      const expectViews = async (open: string, resolved: string, all: string, what: string): Promise<void> => {
        for (const { transport } of clients) {
          await waitUntil(
            () => shown(`${transport}-open`) === open && shown(`${transport}-resolved`) === resolved && shown(`${transport}-all`) === all,
            `${transport}: ${what} (open ${shown(`${transport}-open`)}, resolved ${shown(`${transport}-resolved`)}, all ${shown(`${transport}-all`)})`,
            10_000,
          );
        }
      };
      await expectViews('1', '', '1,2', 'loaded');

      await s.query(`INSERT INTO alerts VALUES (3, 's1', false), (4, 's1', true)`);
      await expectViews('1,3', '4', '1,2,3,4', 'inserts');
      await s.query(`UPDATE alerts SET resolved = true WHERE id = 1`);
      await expectViews('3', '4,1', '1,2,3,4', 'alert 1 resolved: it leaves the open view (a removal) and enters the resolved one');
      await s.query(`UPDATE alerts SET resolved = false, session_id = 's1' WHERE id IN (2, 4)`);
      await expectViews('3,2,4', '1', '1,2,3,4', 'alerts 2 and 4 enter the open view');
      await s.query(`DELETE FROM alerts WHERE id = 3`);
      await expectViews('2,4', '1', '1,2,4', 'a delete matches on its old row');
      await s.query(`DELETE FROM alerts WHERE id IN (1, 2)`);
      await expectViews('4', '', '4', 'a multi-row delete');
      // The team-answers shape: one event naming many keys (filtered views do not match it: its data is no row).
      await s.query(`INSERT INTO alerts VALUES (107, 's9', false), (108, 's9', false)`);
      await expectViews('4', '', '4,107,108', 'more rows');
      // (The rows stay in the table: only the event removes them from the list.)
      await s.query(`SELECT herald_publish('alerts', 'delete', '[107, 108]')`);
      await expectViews('4', '', '4', 'a bulk delete of [107, 108]');
      for (const { transport } of clients) {
        for (const view of Object.keys(VIEWS)) assert.equal(document.getElementById(`${transport}-${view}`)?.getAttribute('data-state'), 'ready');
      }
    },
  );

  it('useTopic with a filter hands over exactly the filtered events, removals marked', { timeout: 60_000 }, async (t) => {
    const client = createClient({ url: relay.running.url, WebSocket: NodeWebSocket });
    const seen: string[] = [];
    function Feed(): React.ReactNode {
      useTopic<{ data: Alert | null; old_data: Alert | null }>(
        'alerts',
        (event) => seen.push(`${event.type}:${(event.data.data ?? event.data.old_data)?.id}${event.removed ? ':removed' : ''}`),
        { filter: "data.session_id = 'feed'", onSubscribed: () => seen.push('subscribed') },
      );
      return null;
    }
    const container = document.createElement('div');
    const root = createRoot(container);
    t.after(() => {
      root.unmount();
      client.close();
    });
    root.render(
      <HeraldProvider client={client}>
        <Feed />
      </HeraldProvider>,
    );
    await waitUntil(() => seen.includes('subscribed'), 'subscribed');
    await s.query(`INSERT INTO alerts VALUES (20, 'feed', false), (21, 'other', false)`);
    await s.query(`UPDATE alerts SET session_id = 'gone' WHERE id = 20`);
    const marker = await outboxPublish(s, 'alerts', 'marker', { table: 'alerts', data: { id: 99, session_id: 'feed' }, old_data: null });
    await waitUntil(() => seen.some((x) => x.startsWith('marker')), `the marker ${marker}`);
    assert.deepEqual(
      seen.filter((x) => x !== 'subscribed'),
      ['insert:20', 'update:20:removed', 'marker:99'],
    );
  });
});
