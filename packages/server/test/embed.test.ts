import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import express from 'express';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import WebSocket from 'ws';
import { createHub, type Hub, type HubOptions } from '../src/index.js';
import { openSse, WsSubscriber } from './helpers/clients.js';
import { publish, waitUntil } from './helpers/hub.js';

/** A hub for embedding: quiet, with short shutdown timings. */
function embeddedHub(options: HubOptions = {}): Hub {
  return createHub({ logger: false, shutdownTimeout: 2000, shutdownJitter: 50, ...options });
}

/** Waits for a server to listen and returns its base URL. */
async function urlOf(server: Server): Promise<string> {
  if (!server.listening) await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Closes a server the test owns, cutting keep-alive connections left by fetch. */
async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  server.closeAllConnections();
  await closed;
}

/** GET with fetch; resolves with status, content type and body text. */
async function get(url: string): Promise<{ status: number; type: string; text: string }> {
  const response = await fetch(url);
  return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
}

/**
 * The check every embedding must pass: an SSE subscriber and a WebSocket subscriber
 * both receive an event published with POST /publish, and an event published over
 * the WebSocket reaches the SSE subscriber. `base` is where the hub's endpoints are.
 */
async function assertRoundTrip(base: string, topic: string): Promise<void> {
  const sse = await openSse(base, [topic]);
  const ws = await WsSubscriber.open(base, `?topic=${encodeURIComponent(topic)}`);
  try {
    const { status, body } = await publish(base, { topic, type: 'embedded', data: { via: 'http' } });
    assert.equal(status, 201, JSON.stringify(body));
    assert.equal(body.ids.length, 1);
    const fromWs = await ws.request({ type: 'publish', topic, event: 'embedded', data: { via: 'ws' } });
    assert.equal(fromWs['type'], 'published');
    for (const inbox of [sse.inbox, ws.inbox]) {
      const events = await inbox.waitForEvents(2);
      assert.deepEqual(
        events.map((e) => [e['id'], e['topic'], e['type'], e['data']]),
        [
          [body.ids[0], topic, 'embedded', { via: 'http' }],
          [fromWs['id'], topic, 'embedded', { via: 'ws' }],
        ],
      );
    }
  } finally {
    sse.close();
    ws.close();
  }
}

/** Resolves with how a WebSocket to `url` failed: `status <n>` for an HTTP answer, `error` when the socket was dropped. */
function failedUpgrade(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { handshakeTimeout: 5000 });
    socket.on('unexpected-response', (req, res) => {
      req.destroy();
      resolve(`status ${res.statusCode ?? 0}`);
    });
    socket.on('open', () => {
      socket.terminate();
      reject(new Error(`the upgrade to ${url} was accepted`));
    });
    socket.on('error', (error) => resolve(error.message.includes('timed out') ? 'timed out' : 'error'));
  });
}

describe('embedding', () => {
  it('works inside a node:http server that falls back to its own routes, with attach() for WebSocket', async () => {
    const hub = embeddedHub();
    const server = createServer((req, res) => {
      if (hub.handleRequest(req, res)) return;
      if (req.method === 'GET' && req.url === '/app') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('app');
        return;
      }
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('app 404');
    });
    hub.attach(server);
    server.listen(0, '127.0.0.1');
    const url = await urlOf(server);
    try {
      await assertRoundTrip(url, 'embed/http');
      assert.deepEqual(await get(`${url}/app`), { status: 200, type: 'text/plain', text: 'app' });
      // Paths the hub does not own reach the app's fallback, not a hub 404.
      assert.deepEqual(await get(`${url}/elsewhere`), { status: 404, type: 'text/plain', text: 'app 404' });
      const health = await get(`${url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(JSON.parse(health.text), { status: 'ok' });
      // Upgrades to other paths are refused (the socket is dropped), not taken by the hub.
      assert.equal(await failedUpgrade(`${url.replace(/^http/, 'ws')}/other`), 'error');
    } finally {
      await hub.close();
      await closeServer(server);
    }
  });

  it('serves every endpoint under basePath and leaves the same paths outside it to the app', async () => {
    const hub = embeddedHub({ basePath: '/realtime' });
    const server = createServer((req, res) => {
      if (hub.handleRequest(req, res)) return;
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(`app ${req.method} ${req.url}`);
    });
    hub.attach(server);
    server.listen(0, '127.0.0.1');
    const url = await urlOf(server);
    try {
      await assertRoundTrip(`${url}/realtime`, 'embed/base');
      // The hub's path names outside the base are the app's.
      assert.deepEqual(await get(`${url}/events?topic=embed/base`), { status: 200, type: 'text/plain', text: 'app GET /events?topic=embed/base' });
      assert.deepEqual(await get(`${url}/app`), { status: 200, type: 'text/plain', text: 'app GET /app' });
      assert.deepEqual(await get(`${url}/realtimeish/events`), { status: 200, type: 'text/plain', text: 'app GET /realtimeish/events' });
      const outside = await fetch(`${url}/publish`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ topic: 'embed/base', data: 1 }),
      });
      assert.equal(outside.status, 200);
      assert.equal(await outside.text(), 'app POST /publish');
      // Unknown paths inside the base are the hub's 404.
      const unknown = await get(`${url}/realtime/nope`);
      assert.equal(unknown.status, 404);
      assert.equal(JSON.parse(unknown.text).error.code, 'not_found');
      const health = await get(`${url}/realtime/healthz`);
      assert.equal(health.status, 200);
      // The WebSocket endpoint is only at <basePath>/ws.
      assert.equal(await failedUpgrade(`${url.replace(/^http/, 'ws')}/ws`), 'error');
    } finally {
      await hub.close();
      await closeServer(server);
    }
  });

  it('works as Express 5 middleware next to app routes', async () => {
    const hub = embeddedHub();
    const app = express();
    app.use(hub.middleware());
    app.get('/app', (_req, res) => {
      res.type('text/plain').send('app');
    });
    const server = app.listen(0, '127.0.0.1');
    hub.attach(server);
    const url = await urlOf(server);
    try {
      await assertRoundTrip(url, 'embed/express');
      const app200 = await get(`${url}/app`);
      assert.equal(app200.status, 200);
      assert.equal(app200.text, 'app');
      // The middleware calls next() for other paths: Express answers with its own (HTML) 404.
      const missing = await get(`${url}/nope`);
      assert.equal(missing.status, 404);
      assert.match(missing.type, /^text\/html/);
      // Wrong methods on hub paths are answered by the hub.
      const wrong = await get(`${url}/publish`);
      assert.equal(wrong.status, 405);
      assert.equal(JSON.parse(wrong.text).error.code, 'method_not_allowed');
    } finally {
      await hub.close();
      await closeServer(server);
    }
  });

  it('publishes through Express when express.json() has already parsed the body', async () => {
    const hub = embeddedHub();
    const app = express();
    app.use(express.json());
    app.use(hub.middleware());
    app.post('/app', (req, res) => {
      res.json({ echoed: req.body as unknown });
    });
    const server = app.listen(0, '127.0.0.1');
    hub.attach(server);
    const url = await urlOf(server);
    try {
      await assertRoundTrip(url, 'embed/express-json');
      const batch = await publish(url, [
        { topic: 'embed/express-json', data: 1 },
        { topic: 'embed/express-json', data: 2 },
      ]);
      assert.equal(batch.status, 201);
      assert.equal(batch.body.ids.length, 2);
      // The parsed body is still validated by the hub.
      const bad = await publish(url, { topic: 'a//b', data: 1 });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'invalid_topic');
      const reserved = await publish(url, [
        { topic: 'ok', data: 1 },
        { topic: 'ok', type: 'pong', data: 2 },
      ]);
      assert.equal(reserved.status, 400);
      assert.equal(reserved.body.error.code, 'reserved_type');
      // A body express.json() leaves alone still reaches the hub's own reader.
      const plain = await publish(url, JSON.stringify({ topic: 'ok', data: 1 }), { 'content-type': 'text/plain' });
      assert.equal(plain.status, 415);
      assert.equal(plain.body.error.code, 'unsupported_media_type');
      // The app's own JSON routes are unaffected.
      const echoed = await fetch(`${url}/app`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":1}' });
      assert.deepEqual(await echoed.json(), { echoed: { x: 1 } });
    } finally {
      await hub.close();
      await closeServer(server);
    }
  });

  it('answers invalid_json, not a hang, when app code consumed the body without keeping it', async () => {
    const hub = embeddedHub();
    const server = createServer((req, res) => {
      // An app's own logging middleware that reads the body and drops it.
      req.resume();
      req.once('end', () => {
        if (!hub.handleRequest(req, res)) res.writeHead(404).end();
      });
    });
    const url = await urlOf(server.listen(0, '127.0.0.1'));
    try {
      const response = await publish(url, { topic: 'embed/consumed', data: 1 });
      assert.equal(response.status, 400);
      assert.equal(response.body.error.code, 'invalid_json');
    } finally {
      await hub.close();
      await closeServer(server);
    }
  });

  it('settles a publish whose client went away before the hub read its body (counted as invalid_request)', async () => {
    const hub = embeddedHub();
    // An app that does something slow first (an auth lookup, say): the client is gone by the time the hub reads.
    const server = createServer((req, res) => {
      req.once('close', () => {
        if (!hub.handleRequest(req, res)) res.writeHead(404).end();
      });
    });
    const url = await urlOf(server.listen(0, '127.0.0.1'));
    const rejected = async (): Promise<number> => {
      const text = await hub.metrics.registry.metrics();
      return Number(/herald_requests_rejected_total\{code="invalid_request"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    try {
      const socket = connect(Number(new URL(url).port), '127.0.0.1');
      await once(socket, 'connect');
      // Headers and half the body, then the client is gone.
      socket.write('POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{"topic":"a",');
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.destroy();
      await waitUntil(async () => (await rejected()) === 1, 'the abandoned publish to be answered and counted');
    } finally {
      await hub.close();
      await closeServer(server);
    }
  });

  it('publishes through Express when express.raw() or express.text() read the JSON body as text', async () => {
    for (const reader of [express.raw({ type: 'application/json' }), express.text({ type: 'application/json' })]) {
      const hub = embeddedHub({ maxBodyBytes: 1024 });
      const app = express();
      app.use(reader);
      app.use(hub.middleware());
      const server = app.listen(0, '127.0.0.1');
      const url = await urlOf(server);
      try {
        const ok = await publish(url, [
          { topic: 'embed/raw', data: 1 },
          { topic: 'embed/raw', data: 2 },
        ]);
        assert.equal(ok.status, 201);
        assert.equal(ok.body.ids.length, 2);
        const bad = await publish(url, '{"topic":', { 'content-type': 'application/json' });
        assert.equal(bad.status, 400);
        assert.equal(bad.body.error.code, 'invalid_json');
        // The app's reader allows 100 KB; the hub's own limit still applies to what it read.
        const big = await publish(url, { topic: 'embed/raw', data: 'x'.repeat(2000) });
        assert.equal(big.status, 413);
        assert.equal(big.body.error.code, 'payload_too_large');
      } finally {
        await hub.close();
        await closeServer(server);
      }
    }
  });

  it('works inside Fastify 5 with hijacked routes and attach() on fastify.server', async () => {
    const hub = embeddedHub();
    const fastify = Fastify();
    const toHub = (request: FastifyRequest, reply: FastifyReply): void => {
      reply.hijack();
      if (!hub.handleRequest(request.raw, reply.raw)) {
        reply.raw.writeHead(404);
        reply.raw.end();
      }
    };
    // The hub reads POST /publish bodies itself. In a plugin scope of their own, the hub's
    // routes get a content-type parser that leaves the body unread; the app keeps Fastify's JSON parser.
    await fastify.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
      for (const path of ['/events', '/publish', '/ws', '/healthz', '/readyz', '/metrics']) scope.all(path, toHub);
    });
    fastify.get('/app', async () => 'app');
    fastify.post('/echo', async (request) => ({ echoed: request.body }));
    hub.attach(fastify.server);
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const url = await urlOf(fastify.server);
    try {
      await assertRoundTrip(url, 'embed/fastify');
      const app = await get(`${url}/app`);
      assert.equal(app.status, 200);
      assert.equal(app.text, 'app');
      const echoed = await fetch(`${url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":1}' });
      assert.deepEqual(await echoed.json(), { echoed: { x: 1 } });
      // The hub, not Fastify, answers bad input on its routes.
      const malformed = await publish(url, '{"topic":');
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.error.code, 'invalid_json');
      const plain = await publish(url, JSON.stringify({ topic: 'ok', data: 1 }), { 'content-type': 'text/plain' });
      assert.equal(plain.status, 415);
      assert.equal(plain.body.error.code, 'unsupported_media_type');
      const wrong = await get(`${url}/publish`);
      assert.equal(wrong.status, 405);
      assert.equal(JSON.parse(wrong.text).error.code, 'method_not_allowed');
      const noUpgrade = await get(`${url}/ws`);
      assert.equal(noUpgrade.status, 426);
      assert.equal(JSON.parse(noUpgrade.text).error.code, 'upgrade_required');
    } finally {
      await hub.close();
      await fastify.close();
    }
  });
});
