import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startHub, waitUntil, type RunningHub } from './helpers/hub.js';
import { RawWsClient } from './helpers/raw-ws.js';

/** One client frame: FIN/RSV bits and opcode in `first`, masked unless `masked` is false. */
function frame(first: number, payload: Buffer, masked = true): Buffer {
  if (payload.length > 0xffff) throw new Error('frame: test payloads stay under 64 KiB');
  const lengthBytes = payload.length < 126 ? [payload.length] : [126, payload.length >> 8, payload.length & 0xff];
  if (!masked) return Buffer.concat([Buffer.from([first, ...lengthBytes]), payload]);
  const mask = randomBytes(4);
  lengthBytes[0]! |= 0x80;
  return Buffer.concat([Buffer.from([first, ...lengthBytes]), mask, Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!))]);
}

const FIN = 0x80;
const RSV1 = 0x40;
const TEXT = 0x1;
const CONTINUATION = 0x0;
const PING = 0x9;

/** The close code of the hub's close frame (1005 when the frame carries none). */
function closeCodeOf(client: RawWsClient): number | undefined {
  const close = client.frames.find((f) => f.opcode === 0x8);
  if (close === undefined) return undefined;
  return close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005;
}

describe('close codes the WebSocket library sends for bad frames (docs/errors.md)', () => {
  let running: RunningHub;
  before(async () => {
    running = await startHub({ maxBodyBytes: 1024 });
  });
  after(() => running.close());

  const cases: Array<{ what: string; bytes: () => Buffer; code: number }> = [
    { what: 'a reserved opcode (0x3)', bytes: () => frame(FIN | 0x3, Buffer.from('x')), code: 1002 },
    { what: 'an unmasked frame', bytes: () => frame(FIN | TEXT, Buffer.from('{"type":"ping"}'), false), code: 1002 },
    { what: 'a continuation with no message to continue', bytes: () => frame(FIN | CONTINUATION, Buffer.from('x')), code: 1002 },
    {
      what: 'a new text frame inside a fragmented message',
      bytes: () => Buffer.concat([frame(TEXT, Buffer.from('{')), frame(FIN | TEXT, Buffer.from('}'))]),
      code: 1002,
    },
    { what: 'a fragmented ping', bytes: () => frame(PING, Buffer.from('x')), code: 1002 },
    { what: 'a ping over 125 bytes', bytes: () => frame(FIN | PING, Buffer.alloc(126, 0x61)), code: 1002 },
    { what: 'a close frame with a code no endpoint may send (1005)', bytes: () => frame(FIN | 0x8, Buffer.from([0x03, 0xed])), code: 1002 },
    { what: 'a close frame with a 1-byte payload', bytes: () => frame(FIN | 0x8, Buffer.from([0x03])), code: 1002 },
    { what: 'RSV1 without an extension', bytes: () => frame(FIN | RSV1 | TEXT, Buffer.from('{}')), code: 1002 },
    { what: 'a text frame that is not UTF-8', bytes: () => frame(FIN | TEXT, Buffer.from([0x22, 0xff, 0xfe, 0x22])), code: 1007 },
    { what: 'a close reason that is not UTF-8', bytes: () => frame(FIN | 0x8, Buffer.from([0x03, 0xe8, 0xff])), code: 1007 },
    { what: 'a frame over maxBodyBytes', bytes: () => frame(FIN | TEXT, Buffer.alloc(2000, 0x20)), code: 1009 },
  ];

  for (const { what, bytes, code } of cases) {
    it(`${what}: close ${code}, no error message`, async () => {
      const client = await RawWsClient.open(running.port, '/ws');
      await waitUntil(() => client.messages.some((m) => m['type'] === 'connected'), 'connected');
      client.socket.write(bytes());
      await waitUntil(() => closeCodeOf(client) !== undefined, 'a close frame');
      assert.equal(closeCodeOf(client), code);
      assert.deepEqual(
        client.messages.filter((m) => m['type'] === 'error'),
        [],
        'the library closes without an error message',
      );
      await waitUntil(() => client.closed, 'the connection to end');
    });
  }
});
