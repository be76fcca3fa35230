import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serializeEnvelope, sseEventFrame, type Envelope } from '@herald/protocol';
import { encodeTextFrameFallback } from '../src/encoding/ws-frame.js';
import { parseSseFrames, rawGet } from './helpers/clients.js';
import { metric, publish, startHub, waitUntil, type RunningHub } from './helpers/hub.js';
import { RawWsClient } from './helpers/raw-ws.js';

describe('encode once', () => {
  let running: RunningHub;
  before(async () => {
    running = await startHub();
  });
  after(() => running.close());

  it('writes the same pre-built bytes to every subscriber, encoding each event once per transport', async () => {
    const sse = await Promise.all([1, 2, 3].map(() => rawGet(`${running.url}/events?topic=bytes/*`)));
    const ws = await Promise.all([1, 2, 3].map(() => RawWsClient.open(running.port, '/ws?topic=bytes/*')));
    await waitUntil(() => sse.every((s) => s.text().includes('"connected"')) && ws.every((w) => w.frames.length >= 1), 'connected on all');
    const sseBefore = sse.map((s) => Buffer.concat(s.chunks).length);
    const wsBefore = ws.map((w) => w.frames.length);
    const encodedSse = await metric(running.url, 'herald_frames_encoded_total{transport="sse"}');
    const encodedWs = await metric(running.url, 'herald_frames_encoded_total{transport="ws"}');
    const delivered = await metric(running.url, 'herald_events_delivered_total');

    const { body } = await publish(running.url, { topic: 'bytes/x', type: 'create', data: { text: 'é ✓ "quoted"', n: [1, 2] } });
    const id = body.ids[0] as string;
    await waitUntil(
      () => sse.every((s, i) => Buffer.concat(s.chunks).length > sseBefore[i]!) && ws.every((w, i) => w.frames.length > wsBefore[i]!),
      'the event everywhere',
    );

    const sseBytes = sse.map((s, i) => Buffer.concat(s.chunks).subarray(sseBefore[i]));
    const json = parseSseFrames(sseBytes[0]!.toString('utf8'))[0]!['data']!;
    const envelope = JSON.parse(json) as Envelope;
    assert.equal(envelope.id, id);
    assert.equal(json, serializeEnvelope(envelope), 'fields in the documented order');
    const expectedSse = Buffer.from(sseEventFrame(id, json));
    const expectedWs = encodeTextFrameFallback(Buffer.from(json));
    for (const bytes of sseBytes) assert.deepEqual(bytes, expectedSse);
    for (const [i, client] of ws.entries()) assert.deepEqual(client.frames[wsBefore[i]!]!.bytes, expectedWs);

    assert.equal(await metric(running.url, 'herald_frames_encoded_total{transport="sse"}'), encodedSse + 1);
    assert.equal(await metric(running.url, 'herald_frames_encoded_total{transport="ws"}'), encodedWs + 1);
    assert.equal(await metric(running.url, 'herald_events_delivered_total'), delivered + 6);
    for (const s of sse) s.destroy();
    for (const w of ws) w.socket.destroy();
  });

  it('sends plain SSE frames to an HTTP/1.0 client, which has no chunked encoding', async () => {
    const socket = connect(running.port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    socket.write('GET /events?topic=old-client HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n');
    await waitUntil(() => received.includes('"connected"'), 'the stream to open');
    assert.doesNotMatch(received.slice(0, received.indexOf('\r\n\r\n')), /transfer-encoding/i);
    const { body } = await publish(running.url, { topic: 'old-client', data: { n: 1 } });
    const id = body.ids[0] as string;
    await waitUntil(() => received.includes(`id: ${id}\n`), 'the event');
    const frame = received.slice(received.indexOf(`id: ${id}\n`));
    const json = parseSseFrames(frame)[0]!['data']!;
    assert.equal(frame, sseEventFrame(id, json), 'the frame, with no chunk size line around it');
    socket.destroy();
  });

  it('coalesces the frames of one batch and still sends them whole and in order', async () => {
    const ws = await RawWsClient.open(running.port, '/ws?topic=batch');
    await waitUntil(() => ws.frames.length >= 1, 'connected');
    const { body } = await publish(
      running.url,
      Array.from({ length: 50 }, (_, n) => ({ topic: 'batch', data: n })),
    );
    await waitUntil(() => ws.frames.length >= 51, '50 frames');
    assert.deepEqual(
      ws.messages.slice(1).map((m) => m['id']),
      body.ids,
    );
    ws.socket.destroy();
  });
});
