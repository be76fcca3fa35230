import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openSse, WsSubscriber } from './helpers/clients.js';
import { sleep, startHub, waitUntil, type RunningHub } from './helpers/hub.js';
import { RawWsClient } from './helpers/raw-ws.js';

describe('heartbeats', () => {
  let running: RunningHub;
  before(async () => {
    running = await startHub({ heartbeatInterval: 150 });
  });
  after(() => running.close());

  it('sends heartbeat messages on both transports, announced in connected', async () => {
    const sse = await openSse(running.url, ['hb']);
    const ws = await WsSubscriber.open(running.url, '?topic=hb');
    assert.equal(sse.inbox.control('connected')[0]!['heartbeat'], 150);
    await waitUntil(() => sse.inbox.control('heartbeat').length >= 2 && ws.inbox.control('heartbeat').length >= 2, 'two heartbeats each');
    assert.deepEqual(sse.inbox.control('heartbeat')[0], { type: 'heartbeat' });
    assert.deepEqual(ws.inbox.control('heartbeat')[0], { type: 'heartbeat' });
    sse.close();
    ws.close();
  });

  it('keeps a WebSocket peer that answers pings and cuts one that does not', async () => {
    const live = await WsSubscriber.open(running.url, '?topic=hb2');
    const silent = await RawWsClient.open(running.port, '/ws?topic=hb2');
    await waitUntil(() => silent.closed, 'the silent peer to be cut', 5000);
    await sleep(300);
    assert.equal(live.closeCode, undefined, 'the answering peer is still connected');
    const pong = await live.request({ type: 'ping' });
    assert.equal(pong['type'], 'pong');
    live.close();
  });

  it('keeps a WebSocket peer whose pong was delayed by a stall longer than an interval', async () => {
    // The pong leaves at once, but this process then stalls for 2.5 intervals, so the
    // hub's next tick runs before it has read the pong. One late tick must not be
    // taken for a dead peer: a GC pause or a starved core would otherwise cut every
    // WebSocket connection at once.
    const peer = await WsSubscriber.open(running.url, '?topic=hb3');
    await new Promise<void>((resolve) => {
      peer.socket.once('ping', () => {
        const until = Date.now() + 375;
        while (Date.now() < until) {
          // busy-wait: block the event loop
        }
        resolve();
      });
    });
    await sleep(450);
    assert.equal(peer.closeCode, undefined, 'the peer was cut after a stall');
    const pong = await peer.request({ type: 'ping' });
    assert.equal(pong['type'], 'pong');
    peer.close();
  });
});
