import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BulkTopic } from './helpers/bulk.js';
import { metric, startHub, waitUntil, type RunningHub } from './helpers/hub.js';

// 20,000 events of about 370 bytes: a replay of about 7 MiB, far more than the
// hub's replay high-water mark (64 KiB) and than the loopback kernel buffers
// (about 4 MB here), so the replay really waits on the reader.
const HISTORY = 20_000;

describe('replays of any size', () => {
  let running: RunningHub;
  const bulk = new BulkTopic(() => running, 'bulk', 200);

  before(async () => {
    // The slow reader below takes about 4 s: a few heartbeat ticks judge it on the way.
    running = await startHub({ historySize: 40_000, heartbeatInterval: 1500, maxQueueBytes: 16 * 1024 * 1024 });
    await bulk.publish(1 + HISTORY);
  });
  after(() => running.close());

  // HTTP/1.0 has no chunked encoding: the hub then writes SSE through the response, not the socket.
  for (const transport of ['sse', 'sse-http1.0', 'ws'] as const) {
    it(`${transport}: a fast reader gets a replay of ${HISTORY} events (several MiB) once each, in order, then live events`, async () => {
      const reader = bulk.resume(transport, { kind: 'fast' });
      const owed = bulk.ids.length - 1;
      await waitUntil(() => reader.events.length >= owed, `the ${owed} replayed events`, 15_000);
      await bulk.publish(5);
      await waitUntil(() => reader.events.length >= bulk.ids.length - 1, 'the live events');
      assert.equal(reader.control('connected')[0]?.['resumed'], true);
      assert.deepEqual(
        reader.events.map((e) => e['id']),
        bulk.ids.slice(1),
        'history then live, no gap, no duplicate',
      );
      assert.ok(reader.bytesRead > 6 * 1024 * 1024, `the replay was ${reader.bytesRead} bytes`);
      reader.close();
    });
  }

  for (const transport of ['sse', 'ws'] as const) {
    it(`${transport}: a slow reader (4 KiB reads, a pause after each) gets the whole replay and the live events published meanwhile, and is not cut`, async () => {
      const dropsBefore = await metric(running.url, 'herald_slow_consumer_disconnects_total');
      const reader = bulk.resume(transport, { kind: 'slow', pauseMs: 1 });
      await waitUntil(() => reader.events.length >= 1000, 'the replay to start', 10_000);
      // Live events published mid-replay wait on the connection, then follow the history.
      await bulk.publish(20);
      await waitUntil(() => reader.events.length >= bulk.ids.length - 1, `the replay and the live events`, 30_000);
      assert.deepEqual(
        reader.events.map((e) => e['id']),
        bulk.ids.slice(1),
        'history then live, no gap, no duplicate',
      );
      assert.equal(reader.closed, false, 'the slow reader is still connected');
      assert.equal(await metric(running.url, 'herald_slow_consumer_disconnects_total'), dropsBefore, 'no slow-consumer drop');
      reader.close();
    });
  }
});
