/**
 * The only file that relies on `ws` internals. Everything here has a fallback
 * that uses public API or plain RFC 6455, and test/ws-frame.test.ts pins the bytes.
 *
 * Why: a broadcast must build its WebSocket frame once and write the same bytes
 * to every socket (when measured, about 1.5x the deliveries per second
 * over per-client `ws.send`). `ws` exposes framing as `Sender.frame` but no way
 * to write pre-built bytes, so we write them to the underlying socket ourselves.
 */
import type { Duplex } from 'node:stream';
import * as wsModule from 'ws';
import type { WebSocket } from 'ws';

interface FrameOptions {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
}

type FrameFunction = (data: Buffer, options: FrameOptions) => Buffer[];

const TEXT_OPCODE = 0x1;

// `Sender` is exported by ws at run time but missing from @types/ws.
const senderFrame: FrameFunction | undefined = (() => {
  const sender = (wsModule as unknown as { Sender?: { frame?: unknown } }).Sender;
  const candidate = sender?.frame;
  return typeof candidate === 'function' ? (candidate.bind(sender) as FrameFunction) : undefined;
})();

/** RFC 6455 section 5.2: an unmasked, final text frame as a server sends it. */
export function encodeTextFrameFallback(payload: Buffer): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x80 | TEXT_OPCODE;
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  payload.copy(frame, headerLength);
  return frame;
}

/** A complete server-to-client text frame for `payload`, as one buffer. */
export function encodeTextFrame(payload: Buffer): Buffer {
  if (senderFrame === undefined) return encodeTextFrameFallback(payload);
  const parts = senderFrame(payload, { fin: true, opcode: TEXT_OPCODE, mask: false, readOnly: false, rsv1: false });
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * The raw socket under a `ws` WebSocket, or undefined when this version of `ws`
 * does not expose it (callers then fall back to `ws.send` of the payload).
 * Safe only with per-message deflate off, which the hub always sets: then `ws`
 * writes every frame synchronously, so our writes and its writes never interleave
 * inside a frame.
 */
export function rawSocketOf(ws: WebSocket): Duplex | undefined {
  const socket: unknown = (ws as unknown as { _socket?: unknown })._socket;
  if (socket === null || typeof socket !== 'object') return undefined;
  return typeof (socket as Duplex).write === 'function' ? (socket as Duplex) : undefined;
}
