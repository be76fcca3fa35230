import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rawGet, WsSubscriber } from './helpers/clients.js';
import { metric, publish, startHub, waitUntil, type RunningHub } from './helpers/hub.js';
import { RawWsClient } from './helpers/raw-ws.js';

describe('slow consumers', () => {
  let running: RunningHub;
  before(async () => {
    running = await startHub({ maxQueueBytes: 64 * 1024, maxEventBytes: 64 * 1024 });
  });
  after(() => running.close());

  it('drops a subscriber that stops reading while a fast one receives everything and publishing never waits', async () => {
    const slowWs = await RawWsClient.open(running.port, '/ws?topic=firehose');
    const slowSse = await rawGet(`${running.url}/events?topic=firehose`);
    const fast = await WsSubscriber.open(running.url, '?topic=firehose');
    await waitUntil(() => slowWs.frames.length >= 1 && slowSse.text().includes('connected'), 'slow clients connected');
    // Stop reading: the kernel buffers fill, then the hub's outbound buffer grows past the limit.
    slowWs.socket.pause();
    slowSse.response.pause();

    const payload = 'x'.repeat(60_000);
    const ids: string[] = [];
    // Bounded: loopback kernel buffers hold a few MB, so this ends long before 2,000 events.
    for (let batch = 0; batch < 200; batch++) {
      const { status, body } = await publish(
        running.url,
        Array.from({ length: 10 }, (_, n) => ({ topic: 'firehose', data: { n, payload } })),
      );
      assert.equal(status, 201);
      ids.push(...(body.ids as string[]));
      if ((await metric(running.url, 'herald_slow_consumer_disconnects_total')) >= 2) break;
    }
    assert.equal(await metric(running.url, 'herald_slow_consumer_disconnects_total'), 2, 'both stalled clients dropped');
    await waitUntil(() => running.hub.connectionCount === 1, 'only the fast client left', 5000);

    await fast.inbox.waitForEvents(ids.length, 20000);
    assert.deepEqual(
      fast.inbox.events.map((e) => e['id']),
      ids,
      'the fast client got every event in order',
    );

    // Once the slow clients read again they find the end of the stream (the goodbye
    // frame, written behind a full buffer, may be cut off when the hub destroys the socket).
    slowWs.socket.resume();
    slowSse.response.resume();
    await waitUntil(() => slowWs.closed && slowSse.ended, 'the slow clients to see the end', 10000);
    fast.close();
  });
});
