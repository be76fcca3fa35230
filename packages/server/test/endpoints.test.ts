import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { metric, publish, startHub, waitUntil, type RunningHub } from './helpers/hub.js';
import WebSocket from 'ws';
import { openSse, WsSubscriber } from './helpers/clients.js';
import { runHerald, startServe, stopNode } from './helpers/serve.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('operational endpoints', () => {
  let running: RunningHub;
  before(async () => {
    running = await startHub({ demo: true });
  });
  after(() => running.close());

  it('answers /healthz and /readyz', async () => {
    const health = await fetch(`${running.url}/healthz`);
    assert.deepEqual([health.status, await health.json()], [200, { status: 'ok' }]);
    const ready = await fetch(`${running.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', broker: 'memory', closing: false });
  });

  it('exposes the documented Prometheus metrics', async () => {
    const sse = await openSse(running.url, ['m']);
    await publish(running.url, { topic: 'm', data: 1 });
    await sse.inbox.waitForEvents(1);
    const text = await (await fetch(`${running.url}/metrics`)).text();
    for (const name of [
      'herald_connections',
      'herald_subscriptions',
      'herald_events_published_total',
      'herald_events_delivered_total',
      'herald_frames_encoded_total',
      'herald_resets_total',
      'herald_slow_consumer_disconnects_total',
      'herald_requests_rejected_total',
      'herald_publish_to_write_seconds',
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
    assert.equal(await metric(running.url, 'herald_connections{transport="sse"}'), 1);
    assert.equal(await metric(running.url, 'herald_subscriptions'), 1);
    assert.ok((await metric(running.url, 'herald_publish_to_write_seconds_count')) >= 1);
    sse.close();
  });

  it('serves the demo page when demo is on, and 404 otherwise', async () => {
    const page = await fetch(`${running.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /^text\/html/);
    const html = await page.text();
    // The page uses the client SDK, whose browser bundle is inlined into it.
    assert.match(html, /@herald\/client browser bundle/);
    assert.match(html, /Herald\.createClient\(/);
    assert.doesNotMatch(html, /<!-- herald-client -->/);
    const plain = await startHub();
    const missing = await fetch(`${plain.url}/`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'not_found');
    await plain.close();
  });
});

describe('herald binary', () => {
  it('runs `herald serve --port N` through the workspace bin link from the repository root', async () => {
    const serve = await startServe(['--log-level', 'info'], process.env, { command: `${ROOT}node_modules/.bin/herald`, cwd: ROOT });
    await waitUntil(() => /listens on loopback only/.test(serve.output()), 'the loopback notice in the log');
    const { status } = await publish(serve.url, { topic: 'cli', data: 1 });
    assert.equal(status, 201);
    assert.equal(await stopNode(serve, 'SIGTERM'), 0);
  });

  it('refuses a bad setting with exit code 2 and a message naming it', async () => {
    const { code, stderr } = await runHerald(['serve', '--max-queue-size', 'lots'], process.env);
    assert.equal(code, 2);
    assert.match(stderr, /--max-queue-size/);
    assert.match(stderr, /HERALD_MAX_QUEUE_SIZE/);
    assert.match(stderr, /"lots"/);
  });
});

describe('connection limit', () => {
  it('refuses SSE and WebSocket connections past maxConnections with 503 too_many_connections', async () => {
    const running = await startHub({ maxConnections: 2 });
    const first = await openSse(running.url, ['limit']);
    const second = await WsSubscriber.open(running.url);
    const refused = await fetch(`${running.url}/events?topic=limit`);
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'too_many_connections');
    const status = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(`${running.url.replace('http', 'ws')}/ws`);
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.on('open', () => reject(new Error('upgrade should have been refused')));
      socket.on('error', () => undefined);
    });
    assert.equal(status, 503);
    second.close();
    await waitUntil(() => running.hub.connectionCount === 1, 'the WebSocket to be gone');
    const third = await openSse(running.url, ['limit']);
    assert.equal(third.inbox.control('connected').length, 1, 'a freed slot is usable again');
    first.close();
    third.close();
    await running.close();
  });
});
