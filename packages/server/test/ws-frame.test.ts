import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import WebSocket, * as wsModule from 'ws';
import { encodeTextFrame, encodeTextFrameFallback } from '../src/encoding/ws-frame.js';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const LENGTHS = [0, 1, 125, 126, 127, 65535, 65536, 70000] as const;

/** A payload of `length` bytes with varied content (not all zeros). */
function payloadOf(length: number): Buffer {
  const payload = Buffer.alloc(length);
  for (let i = 0; i < length; i++) payload[i] = 0x20 + ((i * 7) % 95);
  return payload;
}

/** The header RFC 6455 section 5.2 prescribes for an unmasked final text frame. */
function expectedHeader(length: number): Buffer {
  if (length < 126) return Buffer.from([0x81, length]);
  if (length < 65536) {
    const header = Buffer.from([0x81, 126, 0, 0]);
    header.writeUInt16BE(length, 2);
    return header;
  }
  const header = Buffer.alloc(10);
  header[0] = 0x81;
  header[1] = 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return header;
}

type FrameFunction = (data: Buffer, options: Record<string, unknown>) => Buffer[];

/** ws's Sender.frame, exported at run time but absent from @types/ws. */
const Sender = (wsModule as unknown as { Sender?: { frame?: FrameFunction } }).Sender;

describe('encodeTextFrame', () => {
  it('runs against a ws that exposes Sender.frame, so the fast path is the one under test', () => {
    const frame = Sender?.frame;
    assert.equal(typeof frame, 'function');
    const payload = payloadOf(70000);
    const parts = frame!.call(Sender, payload, { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false });
    assert.ok(encodeTextFrame(payload).equals(Buffer.concat(parts)));
  });

  for (const length of LENGTHS) {
    it(`length ${length}: ws Sender.frame bytes equal the RFC 6455 fallback bytes`, () => {
      const payload = payloadOf(length);
      const copy = Buffer.from(payload);
      const framed = encodeTextFrame(payload);
      const fallback = encodeTextFrameFallback(payload);
      assert.ok(Buffer.isBuffer(framed));
      assert.equal(framed.length, fallback.length);
      assert.ok(framed.equals(fallback), `frames differ for length ${length}`);
      const header = expectedHeader(length);
      assert.ok(fallback.subarray(0, header.length).equals(header), `header for length ${length}`);
      assert.ok(fallback.subarray(header.length).equals(payload), `payload for length ${length}`);
      assert.equal(fallback.length, header.length + length);
      assert.ok(payload.equals(copy), 'the payload is not modified');
    });
  }

  it('frames UTF-8 JSON as its bytes', () => {
    const payload = Buffer.from('{"text":"ünïcödé ✓"}');
    const frame = encodeTextFrameFallback(payload);
    assert.equal(frame[0], 0x81);
    assert.equal(frame[1], payload.length);
    assert.equal(frame.subarray(2).toString('utf8'), '{"text":"ünïcödé ✓"}');
    assert.ok(encodeTextFrame(payload).equals(frame));
  });
});

/**
 * A plain TCP server that answers one WebSocket handshake by hand and then writes
 * the given frames, so the client decodes bytes that `ws` itself never produced.
 */
async function handRolledServer(frames: Buffer[]): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let request = '';
    const onData = (chunk: Buffer): void => {
      request += chunk.toString('latin1');
      if (!request.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      const key = /^sec-websocket-key:\s*(\S+)\s*$/im.exec(request)?.[1];
      if (key === undefined) {
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
        return;
      }
      const accept = createHash('sha1')
        .update(key + WS_GUID)
        .digest('base64');
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\n' + 'Upgrade: websocket\r\n' + 'Connection: Upgrade\r\n' + `Sec-WebSocket-Accept: ${accept}\r\n` + '\r\n',
      );
      for (const frame of frames) socket.write(frame);
    };
    socket.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Connects a ws client and collects `count` text messages. */
async function receive(url: string, count: number): Promise<string[]> {
  const client = new WebSocket(url);
  const messages: string[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out with ${messages.length} of ${count} messages`)), 5000);
      client.on('message', (data, isBinary) => {
        messages.push(isBinary ? `<binary ${String(data)}>` : String(data));
        if (messages.length === count) {
          clearTimeout(timer);
          resolve();
        }
      });
      client.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      client.on('close', (code) => {
        clearTimeout(timer);
        reject(new Error(`closed with ${code} after ${messages.length} of ${count} messages`));
      });
    });
  } finally {
    client.removeAllListeners('close');
    client.on('error', () => undefined);
    client.terminate();
  }
  return messages;
}

describe('a ws client decodes fallback-built frames', () => {
  it('receives {"a":1} from a hand-rolled handshake and frame', async () => {
    const server = await handRolledServer([encodeTextFrameFallback(Buffer.from('{"a":1}'))]);
    try {
      const messages = await receive(server.url, 1);
      assert.deepEqual(messages, ['{"a":1}']);
    } finally {
      await server.close();
    }
  });

  it('receives frames of every header size, in order', async () => {
    const texts = [0, 125, 126, 65535, 65536, 70000].map((length) => payloadOf(length).toString('latin1'));
    const server = await handRolledServer(texts.map((text) => encodeTextFrameFallback(Buffer.from(text))));
    try {
      const messages = await receive(server.url, texts.length);
      assert.deepEqual(
        messages.map((m) => m.length),
        [0, 125, 126, 65535, 65536, 70000],
      );
      assert.deepEqual(messages, texts);
    } finally {
      await server.close();
    }
  });
});
