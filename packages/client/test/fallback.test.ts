import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createHub, type Hub } from '../../server/src/index.js';
import { CuttableProxy, publishBatches, seededRandom, sleep, subscribeAndWait, testClient, testSeed, waitUntil } from './helpers/setup.js';

/**
 * A hub embedded behind a server that can refuse WebSocket upgrades, as a
 * corporate proxy does, while plain HTTP (and so SSE) keeps working.
 */
async function hubBehindUpgradeBlocker(): Promise<{ hub: Hub; server: Server; port: number; block(on: boolean): void }> {
  const hub = createHub({ logger: false, heartbeatInterval: 500, shutdownTimeout: 500, shutdownJitter: 10 });
  let blocked = false;
  const server = createServer((req, res) => {
    if (!hub.handleRequest(req, res)) res.writeHead(404).end();
  });
  server.on('upgrade', (req, socket, head) => {
    if (blocked) socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else hub.handleUpgrade(req, socket, head);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { hub, server, port: (server.address() as AddressInfo).port, block: (on) => (blocked = on) };
}

describe('auto transport: WebSocket refused at the upgrade (real hub)', () => {
  let env: Awaited<ReturnType<typeof hubBehindUpgradeBlocker>>;
  let proxy: CuttableProxy;
  const seed = testSeed();

  before(async () => {
    env = await hubBehindUpgradeBlocker();
    proxy = await CuttableProxy.start(env.port);
  });
  after(async () => {
    await proxy.close();
    await env.hub.close();
    env.server.closeAllConnections();
    await new Promise((resolve) => env.server.close(resolve));
  });

  it(`falls back to SSE resuming from the last id with no missed event, and returns to WebSocket later (seed ${seed})`, async (t) => {
    const random = seededRandom(seed);
    const pause = (): Promise<void> => sleep(Math.floor(random() * 4));
    const client = testClient({ url: proxy.url, transport: 'auto', websocketRetryDelay: 400 });
    t.after(() => client.close());
    const received: string[] = [];
    const transports = new Set<string>();
    await subscribeAndWait(client, 'board', {
      onEvent: (event) => {
        received.push(event.id);
        transports.add(client.transport!);
      },
    });
    assert.equal(client.transport, 'websocket');
    const ids = await publishBatches(env.hub, 'board', 50, random, pause);
    await waitUntil(() => received.length === 50, 'the first 50 events over WebSocket');

    // The proxy starts refusing upgrades and the connection drops while events keep coming.
    env.block(true);
    proxy.cutAll();
    ids.push(...(await publishBatches(env.hub, 'board', 100, random, pause)));
    await waitUntil(() => received.length >= 150, `150 events (have ${received.length})`, 10_000);
    assert.equal(client.transport, 'sse');
    assert.ok(transports.has('sse'));

    // Upgrades work again: after websocketRetryDelay the client moves back to WebSocket, still resuming.
    env.block(false);
    const more = publishBatches(env.hub, 'board', 100, random, () => sleep(5));
    await waitUntil(() => client.transport === 'websocket' && client.state === 'connected', 'back on WebSocket', 10_000);
    ids.push(...(await more));
    await waitUntil(() => received.length >= 250, `250 events (have ${received.length})`, 10_000);
    await sleep(50);
    assert.deepEqual(received, ids, `seed ${seed}`);
  });
});
