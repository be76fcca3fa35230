// Change capture: the triggers `herald pg triggers` installs, the payload each row change
// becomes, filters on those events, and --pg-listen relaying NOTIFY payloads.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import { captureInstallSql, OUTBOX_INSTALL_SQL } from '../../src/index.js';
import { assertNoDuplicates, closeSubscribers, ids, sseOpen, waitForId, WsSubscriber, type Message } from '../helpers/clients.js';
import { metric } from '../helpers/hub.js';
import { inSchema, outboxPublish, postgresSkipReason, schemaObjects, startRelayHub } from '../helpers/postgres.js';
import { runHerald, startNode, stopNode } from '../helpers/serve.js';

const skip = await postgresSkipReason();

const SESSIONS_DDL = `CREATE TABLE sessions (id text PRIMARY KEY, session_id text, resolved boolean NOT NULL DEFAULT false, note text)`;
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('Postgres change capture and outbox', { skip }, () => {
  afterEach(closeSubscribers);

  it('herald pg triggers: --print changes nothing; the CLI installs, captures and --drop removes', { timeout: 60_000 }, async () => {
    await inSchema(async (s) => {
      await s.query(SESSIONS_DDL);
      const empty = { tables: ['sessions'], functions: [], triggers: [] };

      const printed = await runHerald(['pg', 'triggers', '--table', 'sessions', '--key', 'id', '--print', '--postgres', s.url]);
      assert.equal(printed.code, 0, printed.stderr);
      assert.match(printed.stdout, /^BEGIN;\n/);
      assert.match(printed.stdout, /\nCOMMIT;\n$/);
      assert.match(printed.stdout, /herald_publish/);
      assert.match(printed.stdout, /CREATE TABLE IF NOT EXISTS %1\$I\.herald_outbox/, 'names are qualified with the schema (sql.ts)');
      assert.match(printed.stdout, /to_regclass\('sessions'\)[^]*CREATE TRIGGER herald_capture AFTER INSERT OR UPDATE OR DELETE ON %2\$s/);
      assert.match(printed.stdout, /TG_TABLE_NAME \|\| '\/' \|\| row_key/, '--key adds the per-row topic');
      const outboxPrinted = await runHerald(['pg', 'outbox', 'install', '--print', '--postgres', s.url]);
      assert.equal(outboxPrinted.code, 0, outboxPrinted.stderr);
      assert.match(outboxPrinted.stdout, /CREATE OR REPLACE FUNCTION %1\$I\.herald_publish\(topic text, type text, data jsonb\)/);
      assert.deepEqual(await schemaObjects(s), empty, '--print changes nothing');

      const refused = await runHerald(['pg', 'triggers', '--table', 'sessions;drop', '--print']);
      assert.equal(refused.code, 2, 'a table name that is not an identifier is refused');
      assert.match(refused.stderr, /identifier/);

      const outbox = await runHerald(['pg', 'outbox', 'install', '--postgres', s.url]);
      assert.equal(outbox.code, 0, outbox.stderr);
      const triggers = await runHerald(['pg', 'triggers', '--table', 'sessions', '--key', 'id', '--postgres', s.url]);
      assert.equal(triggers.code, 0, triggers.stderr);
      assert.deepEqual(await schemaObjects(s), {
        tables: ['herald_outbox', 'herald_outbox_cursor', 'sessions'],
        functions: ['herald_capture_sessions', 'herald_outbox_sequence', 'herald_publish'],
        triggers: ['herald_outbox.herald_outbox_sequence', 'sessions.herald_capture'],
      });

      const { running } = await startRelayHub(s.url);
      try {
        const sse = await sseOpen(running.url, ['sessions/**']);
        await s.query(`INSERT INTO sessions (id, session_id) VALUES ('s-1', 'abc')`);
        await sse.inbox.waitForEvents(1);

        const dropped = await runHerald(['pg', 'triggers', '--table', 'sessions', '--drop', '--postgres', s.url]);
        assert.equal(dropped.code, 0, dropped.stderr);
        assert.deepEqual(await schemaObjects(s), {
          tables: ['herald_outbox', 'herald_outbox_cursor', 'sessions'],
          functions: ['herald_outbox_sequence', 'herald_publish'],
          triggers: ['herald_outbox.herald_outbox_sequence'],
        });
        await s.query(`INSERT INTO sessions (id, session_id) VALUES ('s-2', 'abc')`);
        // Outbox events arrive in commit order: once the marker is here, an event of s-2 would be too.
        const marker = await outboxPublish(s, 'sessions', 'marker', {});
        await waitForId(sse.inbox, marker);
        assert.deepEqual(
          sse.inbox.events.map((e) => [e['topic'], e['type'], e['data']?.data?.id ?? null]),
          [
            ['sessions/s-1', 'insert', 's-1'],
            ['sessions', 'marker', null],
          ],
        );
        sse.close();
      } finally {
        await running.close();
      }

      const uninstalled = await runHerald(['pg', 'outbox', 'uninstall', '--postgres', s.url]);
      assert.equal(uninstalled.code, 0, uninstalled.stderr);
      assert.deepEqual(await schemaObjects(s), empty, 'uninstall removes everything install created');
    });
  });

  it(
    'INSERT, UPDATE and DELETE reach table and row subscribers once each with the documented payload; a 20 KB row arrives whole',
    { timeout: 60_000 },
    async () => {
      await inSchema(async (s) => {
        await s.query(SESSIONS_DDL);
        const installed = await runHerald(['pg', 'triggers', '--table', 'sessions', '--key', 'id', '--postgres', s.url]);
        assert.equal(installed.code, 0, installed.stderr);
        const { running } = await startRelayHub(s.url);
        try {
          // With --key each change is published once, to sessions/<id>: the table's
          // subscribers (sessions/**, sessions/*) and the row's (sessions/s-1) get it exactly once.
          const sse = await sseOpen(running.url, ['sessions/**']);
          const ws = await WsSubscriber.open(running.url, '?topic=sessions/*&topic=sessions');
          const row1 = await sseOpen(running.url, ['sessions/s-1']);
          const before = Date.now();
          await s.query(`INSERT INTO sessions (id, session_id, resolved, note) VALUES ('s-1', 'abc', false, 'hello')`);
          await s.query(`UPDATE sessions SET resolved = true, note = 'done' WHERE id = 's-1'`);
          await s.query(`DELETE FROM sessions WHERE id = 's-1'`);
          // A value NOTIFY could not carry (8,000 bytes), with quotes, backslashes, newlines and non-ASCII.
          const alphabet = `abcdefghijklmnopqrstuvwxyz0123456789 '"\\\n\té🚀`;
          const big = Array.from(randomBytes(20_000), (byte) => [...alphabet][byte % [...alphabet].length]).join('');
          assert.ok(Buffer.byteLength(big) > 20_000);
          await s.query(`INSERT INTO sessions (id, session_id, note) VALUES ('s-2', 'big', $1)`, [big]);
          // A key that is not one topic segment: the change goes to the table's topic.
          await s.query(`INSERT INTO sessions (id, session_id) VALUES ('x/y', 'slash')`);
          const events = await sse.inbox.waitForEvents(5, 10000);
          const after = Date.now();
          assert.deepEqual(
            events.map((e) => [e['topic'], e['type']]),
            [
              ['sessions/s-1', 'insert'],
              ['sessions/s-1', 'update'],
              ['sessions/s-1', 'delete'],
              ['sessions/s-2', 'insert'],
              ['sessions', 'insert'],
            ],
          );
          const marker = await outboxPublish(s, 'sessions', 'marker', null);
          await waitForId(sse.inbox, marker);
          await waitForId(ws.inbox, marker);
          assert.deepEqual(ids(ws.inbox.events), ids(sse.inbox.events), 'sessions/* and sessions together: each change once');
          assert.deepEqual(
            row1.inbox.events.map((e) => e['type']),
            ['insert', 'update', 'delete'],
            'the row subscriber gets its row, once each',
          );
          assertNoDuplicates(ids(sse.inbox.events), 'the table subscriber');
          ws.close();
          row1.close();
          for (const event of events) {
            assert.match(event['id'], /^outbox-\d+$/);
            assert.deepEqual(Object.keys(event['data']).sort(), ['action', 'data', 'old_data', 'table', 'timestamp']);
            assert.equal(event['data'].table, 'sessions');
            assert.match(event['data'].timestamp, ISO_UTC);
            const at = Date.parse(event['data'].timestamp);
            assert.ok(at >= before - 60_000 && at <= after + 60_000, `timestamp ${event['data'].timestamp} is the time of the change`);
          }
          const [insert, update, del, bigInsert, slash] = events as Message[];
          const row = { id: 's-1', session_id: 'abc', resolved: false, note: 'hello' };
          const changed = { ...row, resolved: true, note: 'done' };
          assert.equal(insert!['data'].action, 'INSERT');
          assert.deepEqual(insert!['data'].data, row);
          assert.equal(insert!['data'].old_data, null);
          assert.equal(update!['data'].action, 'UPDATE');
          assert.deepEqual(update!['data'].data, changed);
          assert.deepEqual(update!['data'].old_data, row);
          assert.equal(del!['data'].action, 'DELETE');
          assert.equal(del!['data'].data, null);
          assert.deepEqual(del!['data'].old_data, changed);
          assert.equal(bigInsert!['data'].data.note.length, big.length);
          assert.ok(bigInsert!['data'].data.note === big, 'the 20 KB value arrives whole');
          assert.deepEqual(slash!['data'].data, { id: 'x/y', session_id: 'slash', resolved: false, note: null });
          assertNoDuplicates(ids(events), 'change capture');
          sse.close();
        } finally {
          await running.close();
        }
      });
    },
  );

  it('--pg-listen relays NOTIFY payloads to the mapped topic and skips malformed ones', { timeout: 60_000 }, async () => {
    await inSchema(async (s) => {
      await s.query(OUTBOX_INSTALL_SQL);
      // NOTIFY channels are database-wide: a channel of this test's own.
      const channel = `session_changes_${s.schema}`;
      const node = await startNode(['--postgres', s.url, '--pg-listen', `${channel}=sessions`]);
      try {
        const sse = await sseOpen(node.url, ['sessions']);
        await s.query(`NOTIFY ${channel}, '{"action":"INSERT","data":{"id":"s-1","session_id":"abc"}}'`);
        await sse.inbox.waitForEvents(1);
        for (const bad of ['not json', '[1,2]', '"text"', '{"type":"connected","data":1}']) await s.query('SELECT pg_notify($1, $2)', [channel, bad]);
        await s.query('SELECT pg_notify($1, $2)', [channel, JSON.stringify({ action: 'UPDATE', data: { id: 's-1', resolved: true } })]);
        await sse.inbox.waitForEvents(2);
        assert.deepEqual(
          sse.inbox.events.map((e) => [e['topic'], e['type'], e['data']]),
          [
            ['sessions', 'insert', { action: 'INSERT', data: { id: 's-1', session_id: 'abc' } }],
            ['sessions', 'update', { action: 'UPDATE', data: { id: 's-1', resolved: true } }],
          ],
        );
        assert.equal(await metric(node.url, 'herald_source_messages_total{source="pg_listen",result="malformed"}'), 4);
        assert.equal(await metric(node.url, 'herald_source_messages_total{source="pg_listen",result="published"}'), 2);
        sse.close();
      } finally {
        await stopNode(node, 'SIGTERM');
      }
    });
  });

  it(
    'filters apply alike to live and replayed change-capture events: deletes match on the old row, rows leaving the view arrive as removals',
    { timeout: 60_000 },
    async () => {
      await inSchema(async (s) => {
        await s.query(SESSIONS_DDL);
        await s.query(OUTBOX_INSTALL_SQL + captureInstallSql([{ table: 'sessions' }]));
        const { running } = await startRelayHub(s.url);
        try {
          const filter = "data.session_id = 'abc' and data.resolved = false";
          const all = await sseOpen(running.url, ['sessions']);
          const start = await outboxPublish(s, 'sessions', 'start', null);
          await waitForId(all.inbox, start);
          const live = await sseOpen(running.url, ['sessions'], { query: { filter } });
          const liveWs = await WsSubscriber.open(running.url, `?topic=sessions&filter=${encodeURIComponent(filter)}`);
          await s.query(`INSERT INTO sessions (id, session_id, resolved) VALUES ('a1', 'abc', false), ('a2', 'abc', true), ('b1', 'xyz', false)`);
          await s.query(`UPDATE sessions SET resolved = true WHERE id = 'a1'`);
          await s.query(`UPDATE sessions SET resolved = false WHERE id = 'a2'`);
          await s.query(`UPDATE sessions SET session_id = 'abc' WHERE id = 'b1'`);
          await s.query(`DELETE FROM sessions WHERE id = 'a2'`);
          await s.query(`DELETE FROM sessions WHERE id = 'a1'`);
          await s.query(`INSERT INTO sessions (id, session_id) VALUES ('a3', 'abc')`);
          const end = await outboxPublish(s, 'sessions', 'end', null);
          await waitForId(all.inbox, end);
          const mix = all.inbox.events.slice(1, -1);
          assert.equal(mix.length, 9);
          const inView = (r: Message | null): boolean => r?.['session_id'] === 'abc' && r?.['resolved'] === false;
          // [id, removed]: the new row in the view, or else the old row in it (a delete as is, any other change as a removal).
          const expected = mix.flatMap((e): Array<[string, boolean]> => {
            if (inView(e['data'].data)) return [[e['id'], false]];
            if (inView(e['data'].old_data)) return [[e['id'], e['data'].data !== null]];
            return [];
          });
          assert.deepEqual(
            expected.map(([id, removed]) => [mix.find((e) => e['id'] === id)!['type'], removed]),
            [
              ['insert', false],
              ['update', true],
              ['update', false],
              ['update', false],
              ['delete', false],
              ['insert', false],
            ],
            'a1 insert, a1 leaving (removal), a2 and b1 entering, a2 deleted, a3 insert; the a1 delete is no longer in the view',
          );
          const seen = (events: readonly Message[]): Array<[string, boolean]> => events.map((e) => [e['id'], e['removed'] === true]);
          await waitForId(live.inbox, expected.at(-1)![0]);
          await waitForId(liveWs.inbox, expected.at(-1)![0]);
          const replay = await sseOpen(running.url, ['sessions'], { lastEventId: start, query: { filter } });
          const replayWs = await WsSubscriber.open(running.url, `?topic=sessions&since=${start}&filter=${encodeURIComponent(filter)}`);
          await waitForId(replay.inbox, expected.at(-1)![0]);
          await waitForId(replayWs.inbox, expected.at(-1)![0]);
          const marker = await outboxPublish(s, 'sessions', 'x', { data: { session_id: 'abc', resolved: false } });
          for (const sub of [live, liveWs, replay, replayWs]) {
            await waitForId(sub.inbox, marker);
            assert.deepEqual(seen(sub.inbox.events).slice(0, -1), expected, 'live and replayed, SSE and WebSocket, alike');
          }
          for (const sub of [all, live, liveWs, replay, replayWs]) sub.close();
        } finally {
          await running.close();
        }
      });
    },
  );
});
