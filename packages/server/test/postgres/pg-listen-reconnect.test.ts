import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { PgListenBridge } from '../../src/index.js';
import { openSse } from '../helpers/clients.js';
import { sleep, startHub, waitUntil } from '../helpers/hub.js';
import { DATABASE_URL, postgresSkipReason } from '../helpers/postgres.js';
import { CuttableProxy } from '../helpers/proxy.js';

const skip = await postgresSkipReason();

describe('--pg-listen reconnects', { skip }, () => {
  it('keeps trying after a failed reconnect, and listens again once Postgres is reachable', { timeout: 30_000 }, async () => {
    const target = new URL(DATABASE_URL);
    const proxy = await CuttableProxy.start(Number(target.port || 5432));
    const url = new URL(DATABASE_URL);
    url.port = String(proxy.port);
    const running = await startHub();
    const channel = `relisten_${process.pid}_${Date.now()}`;
    const bridge = new PgListenBridge(running.hub, { url: url.toString(), mappings: [{ channel, topic: 'relisten' }] });
    const notifier = new pg.Client({ connectionString: DATABASE_URL });
    try {
      await notifier.connect();
      await bridge.start();
      const subscriber = await openSse(running.url, ['relisten']);
      await notifier.query('SELECT pg_notify($1, $2)', [channel, JSON.stringify({ data: 'before' })]);
      await subscriber.inbox.waitForEvents(1);
      // An outage longer than one reconnect attempt: the first reconnect fails.
      proxy.down();
      await sleep(2500);
      proxy.up();
      // Notifications sent while not listening are lost (documented); keep sending until one arrives.
      let n = 0;
      await waitUntil(
        async () => {
          await notifier.query('SELECT pg_notify($1, $2)', [channel, JSON.stringify({ data: `after-${n++}` })]);
          await sleep(200);
          return subscriber.inbox.events.length > 1;
        },
        'a notification after the outage',
        15_000,
      );
      // Without a `type`, a NOTIFY payload is the event's data as a whole.
      assert.match(String(subscriber.inbox.events.at(-1)!['data']['data']), /^after-/);
      subscriber.close();
    } finally {
      await notifier.end();
      await bridge.close();
      await running.close();
      await proxy.close();
    }
  });
});
