import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BulkTopic } from './helpers/bulk.js';
import { metric, publish, sleep, startHub, waitUntil, type RunningHub } from './helpers/hub.js';
import { RawReader } from './helpers/raw-reader.js';

// A replay of about 7 MiB: more than the loopback kernel buffers (about 4 MB here)
// can hold for a reader that takes nothing, so the hub is left waiting on it.
const HISTORY = 20_000;
const HEARTBEAT_MS = 300;

describe('readers that stop', () => {
  let running: RunningHub;
  const bulk = new BulkTopic(() => running, 'bulk', 200);

  before(async () => {
    // maxQueueBytes far above anything this file writes: only the tick rules can cut.
    running = await startHub({ historySize: 40_000, heartbeatInterval: HEARTBEAT_MS, maxQueueBytes: 64 * 1024 * 1024 });
    await bulk.publish(1 + HISTORY);
  });
  after(() => running.close());

  for (const transport of ['sse', 'ws'] as const) {
    it(`${transport}: a reader that stops during its replay is dropped as a slow consumer although no live event arrives`, async () => {
      const dropsBefore = await metric(running.url, 'herald_slow_consumer_disconnects_total');
      const connectionsBefore = running.hub.connectionCount;
      const reader = bulk.resume(transport, { kind: 'stopped' });
      await waitUntil(() => running.hub.connectionCount === connectionsBefore + 1, 'the connection to open');
      await waitUntil(
        async () => (await metric(running.url, 'herald_slow_consumer_disconnects_total')) === dropsBefore + 1,
        'the stopped reader to be dropped as a slow consumer',
        10_000,
      );
      await waitUntil(() => running.hub.connectionCount === connectionsBefore, 'the connection to be gone');
      // Reading again, it finds what the kernel held, then the end of the connection.
      reader.setPace({ kind: 'fast' });
      await waitUntil(() => reader.closed, 'the reader to see the end', 10_000);
      assert.ok(reader.events.length < HISTORY, 'it was dropped before the replay ended');
    });
  }

  it('sse: heartbeats do not pile up behind the backlog of a reader that stopped', async () => {
    const reader = RawReader.sse(running.port, '/events?topic=pile', { kind: 'stopped' });
    await waitUntil(() => reader.status !== '', 'the stream to open');
    // Fill the kernel buffers and leave a backlog in the hub (live events: no replay, no stall rule).
    const ids: string[] = [];
    const pad = 'y'.repeat(1000);
    for (let batch = 0; batch < 60; batch++) {
      const { body } = await publish(
        running.url,
        Array.from({ length: 100 }, (_, n) => ({ topic: 'pile', data: { n, pad } })),
      );
      ids.push(...(body.ids as string[]));
    }
    const ticks = 6;
    await sleep(ticks * HEARTBEAT_MS);
    reader.setPace({ kind: 'fast' });
    await waitUntil(() => reader.events.length >= ids.length, 'the backlog', 10_000);
    const lastEvent = reader.messages.findLastIndex((m) => m['topic'] === 'pile');
    const queuedBehind = reader.messages.slice(lastEvent + 1).filter((m) => m['type'] === 'heartbeat').length;
    // At most the heartbeat of one tick that may have run since the backlog drained.
    assert.ok(queuedBehind <= 1, `${queuedBehind} heartbeats were queued behind the backlog over ${ticks} ticks`);
    assert.deepEqual(
      reader.events.map((e) => e['id']),
      ids,
    );
    reader.close();
  });
});
