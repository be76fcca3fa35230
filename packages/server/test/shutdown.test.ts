import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createHub } from '../src/index.js';
import { parseSseFrames, rawGet, WsSubscriber } from './helpers/clients.js';
import { publish, waitUntil } from './helpers/hub.js';
import { startServe } from './helpers/serve.js';

describe('graceful shutdown', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`on ${signal}, tells every client to come back after a jittered delay and exits 0`, async () => {
      const { child, url, exited: exit } = await startServe(['--shutdown-jitter', '2000', '--shutdown-timeout', '3000']);
      const sse = await Promise.all([1, 2, 3, 4].map(() => rawGet(`${url}/events?topic=s`)));
      const ws = await Promise.all([1, 2, 3, 4].map(() => WsSubscriber.open(url, '?topic=s')));
      await waitUntil(() => sse.every((s) => s.text().includes('connected')), 'SSE connected');
      assert.equal((await publish(url, { topic: 's', data: 1 })).status, 201);
      child.kill(signal);
      assert.equal(await exit, 0, 'the process exits cleanly');

      const delays: number[] = [];
      for (const stream of sse) {
        await waitUntil(() => stream.ended, 'the SSE stream to end');
        const frames = parseSseFrames(stream.text());
        const goodbye = frames[frames.length - 1]!;
        const message = JSON.parse(goodbye['data']!) as Record<string, unknown>;
        assert.equal(message['code'], 'shutting_down');
        assert.equal(Number(goodbye['retry']), message['retryAfter'], 'EventSource waits the announced delay');
        delays.push(message['retryAfter'] as number);
      }
      for (const client of ws) {
        assert.equal(await client.closed(), 1012);
        const goodbye = client.inbox.control('error')[0]!;
        assert.equal(goodbye['code'], 'shutting_down');
        delays.push(goodbye['retryAfter'] as number);
      }
      assert.ok(
        delays.every((d) => Number.isInteger(d) && d >= 0 && d <= 2000),
        `delays within the jitter window: ${delays}`,
      );
      assert.ok(new Set(delays).size > 1, `clients are not all told the same delay: ${delays}`);
      await assert.rejects(fetch(`${url}/healthz`), 'nothing listens after exit');
    });
  }

  it('an embedded hub refuses new work after close() while the host server keeps running', async () => {
    const hub = createHub({ logger: false, shutdownJitter: 0 });
    const server = createServer((req, res) => {
      if (!hub.handleRequest(req, res)) res.end('app');
    });
    hub.attach(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await hub.close();
    const published = await publish(url, { topic: 'x', data: 1 });
    assert.deepEqual([published.status, published.body.error.code], [503, 'shutting_down']);
    const events = await fetch(`${url}/events?topic=x`);
    assert.equal(events.status, 503);
    assert.equal(((await events.json()) as { error: { code: string } }).error.code, 'shutting_down');
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal(await (await fetch(`${url}/app`)).text(), 'app');
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
