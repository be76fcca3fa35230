import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { encodeControl, ERRORS, type ControlMessage } from '@herald/protocol';
import type { WebSocket } from 'ws';
import { LogEvent } from '../src/encoding/log-event.js';
import type { ConnectionContext } from '../src/transport/connection.js';
import { SseConnection } from '../src/transport/sse.js';
import { StreamSink, type Framing } from '../src/transport/writer.js';
import { WsConnection } from '../src/transport/ws.js';

/**
 * The write path (transport/writer.ts and the Connection base) against fake
 * streams: what no real socket shows on demand (when a cork starts and ends, the
 * `ws.send` fallback a `ws` without a visible socket forces, the grace period
 * after a goodbye). The real sockets are covered by exact-bytes, slow-consumer,
 * replay-stall and shutdown tests.
 */

/** A writable stream that records what it is asked to do. */
class FakeStream extends EventEmitter {
  readonly writes: Buffer[] = [];
  corks = 0;
  uncorks = 0;
  writableLength = 0;
  writableNeedDrain = false;
  destroyed = false;

  write(chunk: Buffer): boolean {
    this.writes.push(chunk);
    return true;
  }

  cork(): void {
    this.corks++;
  }

  uncork(): void {
    this.uncorks++;
  }
}

/** A `ws` WebSocket that hides its socket, so the connection falls back to `ws.send`. */
class FakeWs extends EventEmitter {
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: { data: string; onSent: (() => void) | undefined }[] = [];
  closedWith: [number, string] | undefined;
  terminated = 0;

  send(data: string, onSent?: () => void): void {
    this.sent.push({ data, onSent });
  }

  ping(): void {}

  close(code: number, reason: string): void {
    this.closedWith = [code, reason];
  }

  terminate(): void {
    this.terminated++;
  }
}

/** A chunked HTTP/1.1 response whose socket is a FakeStream. */
class FakeResponse extends FakeStream {
  readonly socket = new FakeStream();
  readonly chunkedEncoding = true;
  ended: string | undefined;

  end(text: string): void {
    this.ended = text;
  }

  destroy(): void {
    this.destroyed = true;
  }
}

type PrincipalArg = ConstructorParameters<typeof WsConnection>[1];
const principal = { kind: 'open', rateKey: 'test' } as unknown as PrincipalArg;

function context(): ConnectionContext {
  return { maxQueueBytes: 1 << 20, onSlowConsumer() {}, onClosed() {}, countEncoding() {}, countDeliveries() {} };
}

function event(n: number): LogEvent {
  return new LogEvent({ id: `e${n}`, topic: 't', type: 'message', data: { n }, timestamp: '2026-01-01T00:00:00.000Z' }, String(n).padStart(8, '0'), 0);
}

// A framing of the test's own, so StreamSink is tested apart from either transport.
const framing: Framing = {
  event: (event) => Buffer.from(event.json),
  control: (message) => Buffer.from(encodeControl(message)),
  heartbeat: Buffer.from('heartbeat'),
};

const nextTick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

function goodbye(code: 'shutting_down', retryAfter: number): ControlMessage {
  return { type: 'error', code, message: ERRORS[code].message, retryAfter };
}

describe('StreamSink', () => {
  it('corks each stream on its first write of a tick and uncorks them all at its end', async () => {
    const streams = [new FakeStream(), new FakeStream()];
    const sinks = streams.map((stream) => new StreamSink(stream, framing, () => {}, true));
    for (const sink of sinks) for (let n = 0; n < 3; n++) sink.event(event(n));
    assert.deepEqual(
      streams.map((s) => [s.corks, s.uncorks, s.writes.length]),
      [
        [1, 0, 3],
        [1, 0, 3],
      ],
    );
    await nextTick();
    assert.deepEqual(
      streams.map((s) => [s.corks, s.uncorks]),
      [
        [1, 1],
        [1, 1],
      ],
    );
    sinks[0]!.heartbeat();
    assert.equal(streams[0]!.corks, 2, 'a later tick corks again');
  });

  it('without corking, writes go out as the stream makes them', () => {
    const stream = new FakeStream();
    new StreamSink(stream, framing, () => {}, false).event(event(1));
    assert.deepEqual([stream.corks, stream.writes.length], [0, 1]);
  });

  it('waits for drain on the stream it writes to, and only when one is due', async () => {
    const stream = new FakeStream();
    const sink = new StreamSink(stream, framing, () => {}, true);
    await sink.drained();
    stream.writableLength = 100;
    stream.writableNeedDrain = true;
    let drained = false;
    const wait = sink.drained().then(() => (drained = true));
    await nextTick();
    assert.equal(drained, false);
    stream.emit('drain');
    await wait;
    assert.equal(stream.listenerCount('drain') + stream.listenerCount('close'), 0, 'listeners removed');
  });
});

describe('WebSocket connection without a visible socket (ws.send fallback)', () => {
  function open(): { ws: FakeWs; connection: WsConnection } {
    const ws = new FakeWs();
    return { ws, connection: new WsConnection(context(), principal, '127.0.0.1', ws as unknown as WebSocket) };
  }

  it('sends events as their JSON and control messages encoded, through ws.send', () => {
    const { ws, connection } = open();
    const first = event(1);
    connection.deliver(first);
    connection.sendControl({ type: 'resumed' });
    assert.deepEqual(
      ws.sent.map((s) => s.data),
      [first.json, '{"type":"resumed"}'],
    );
    assert.ok(ws.sent.every((s) => typeof s.onSent === 'function'));
  });

  it('a replay waits for ws.bufferedAmount to drain, signalled by the send callback', async () => {
    const { ws, connection } = open();
    ws.bufferedAmount = 100_000;
    let done = false;
    const replay = connection.replay([event(1)], () => true).then(() => (done = true));
    await nextTick();
    assert.equal(done, false);
    ws.bufferedAmount = 0;
    ws.sent[0]!.onSent!();
    await replay;
  });

  it('a replay waiting on a closed socket ends', async () => {
    const { ws, connection } = open();
    ws.bufferedAmount = 100_000;
    const replay = connection.replay([event(1), event(2)], () => true);
    await nextTick();
    ws.emit('close');
    await replay;
    assert.equal(ws.sent.length, 1, 'nothing written after the close');
  });

  it('says goodbye with the close code, then terminates after the grace period', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { ws, connection } = open();
    connection.close('shutting_down', 500);
    assert.deepEqual(JSON.parse(ws.sent[0]!.data), goodbye('shutting_down', 500));
    assert.deepEqual(ws.closedWith, [ERRORS.shutting_down.close, 'shutting_down']);
    t.mock.timers.tick(999);
    assert.equal(ws.terminated, 0);
    t.mock.timers.tick(1);
    assert.equal(ws.terminated, 1);
    connection.sendControl({ type: 'resumed' });
    assert.equal(ws.sent.length, 1, 'nothing sent after close');
  });

  it('a socket already closing is terminated at once, without goodbye or timer', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { ws, connection } = open();
    ws.readyState = 2;
    connection.sendControl({ type: 'resumed' });
    connection.close('shutting_down', 500);
    t.mock.timers.tick(5000);
    assert.deepEqual([ws.sent.length, ws.terminated], [0, 1]);
  });
});

describe('SSE connection', () => {
  function open(): { res: FakeResponse; connection: SseConnection } {
    const res = new FakeResponse();
    return { res, connection: new SseConnection(context(), principal, '127.0.0.1', res as unknown as ServerResponse, 2000) };
  }

  it('writes through the response until connected is written, then HTTP chunks straight to its socket', async () => {
    const { res, connection } = open();
    connection.sendControl({ type: 'resumed' });
    assert.equal(res.writes[0]!.toString(), 'data: {"type":"resumed"}\n\n');
    connection.start({ type: 'resumed' }, undefined);
    assert.equal(res.writes[1]!.toString(), 'retry: 2000\ndata: {"type":"resumed"}\n\n');
    const live = event(1);
    connection.deliver(live);
    connection.sendControl({ type: 'resumed' }, live.position);
    const framed = `id: ${live.position}\ndata: {"type":"resumed"}\n\n`;
    assert.deepEqual(
      res.socket.writes.map((b) => b.toString()),
      [live.sseChunk().toString(), `${Buffer.byteLength(framed).toString(16)}\r\n${framed}\r\n`],
    );
    assert.equal(res.socket.corks, 1);
    await nextTick();
    assert.equal(res.socket.uncorks, 1);
    assert.equal(connection.bufferedBytes(), res.socket.writableLength);
  });

  it('ends the response with a retry field and the goodbye, then destroys it after the grace period', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { res, connection } = open();
    connection.close('shutting_down', 1500);
    assert.equal(res.ended, `retry: 1500\ndata: ${JSON.stringify(goodbye('shutting_down', 1500))}\n\n`);
    t.mock.timers.tick(999);
    assert.equal(res.destroyed, false);
    t.mock.timers.tick(1);
    assert.equal(res.destroyed, true);
  });
});
