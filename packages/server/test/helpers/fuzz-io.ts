import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * Raw-socket I/O for the live fuzz run (fuzz-live.test.ts): requests written byte
 * for byte as given (broken HTTP included, which Node's own client refuses to send)
 * and answers read without interpretation beyond framing.
 */

/** What came back for one raw HTTP request. */
export type RawAnswer =
  | { kind: 'answer'; status: number; headers: Record<string, string>; body: string; head: string }
  | { kind: 'closed'; received: string }
  | { kind: 'timeout'; received: string };

/** Options of {@link rawExchange}. */
export interface RawExchangeOptions {
  /** Pause between pieces, in ms (slow clients). Default 0: one write each, back to back. */
  pauseMs?: number;
  /** Give up waiting for a complete answer after this long. Default 5000. */
  timeoutMs?: number;
  /** The request is a HEAD: the answer has headers only, whatever its Content-Length says. */
  head?: boolean;
}

/** Decodes a chunked body as far as it is complete; returns the text and whether the last chunk arrived. */
function dechunk(raw: Buffer): { body: Buffer; done: boolean } {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    if (lineEnd < 0) return { body: Buffer.concat(parts), done: false };
    const size = parseInt(raw.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size)) return { body: Buffer.concat(parts), done: true };
    if (size === 0) return { body: Buffer.concat(parts), done: true };
    if (raw.length < lineEnd + 2 + size + 2) return { body: Buffer.concat(parts), done: false };
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/** Parses what arrived; returns an answer once it is complete (an SSE stream is complete at its first frame). */
function complete(buffer: Buffer, headOnly = false): RawAnswer | undefined {
  const end = buffer.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = buffer.subarray(0, end).toString('latin1');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = buffer.subarray(end + 4);
  const answer = (body: Buffer): RawAnswer => ({ kind: 'answer', status, headers, body: body.toString('utf8'), head });
  if (status === 101 || headOnly) return answer(Buffer.alloc(0));
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    return rest.length >= length ? answer(rest.subarray(0, length)) : undefined;
  }
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const { body, done } = dechunk(rest);
    const sse = /text\/event-stream/.test(headers['content-type'] ?? '');
    if (done || (sse && body.includes('\n\n') && body.includes('"type":"connected"'))) return answer(body);
  }
  return undefined;
}

/** Writes `pieces` to a fresh connection and resolves with the answer (or how it failed to come). */
export function rawExchange(port: number, pieces: ReadonlyArray<string | Buffer>, options: RawExchangeOptions = {}): Promise<RawAnswer> {
  const { pauseMs = 0, timeoutMs = 5000, head = false } = options;
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let buffer = Buffer.alloc(0);
    let settled = false;
    const finish = (result: RawAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ kind: 'timeout', received: buffer.toString('latin1') }), timeoutMs);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const answer = complete(buffer, head);
      if (answer !== undefined) finish(answer);
    });
    socket.on('close', () => finish(complete(buffer, head) ?? { kind: 'closed', received: buffer.toString('latin1') }));
    void (async () => {
      for (const piece of pieces) {
        if (settled || socket.destroyed) return;
        socket.write(piece);
        if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
      }
    })();
  });
}

/** Opens a connection, writes `head` and leaves it open (a client that never finishes its request). */
export function openStalled(port: number, head: string): { socket: Socket; received: () => string } {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.write(head);
  return { socket, received: () => received };
}

/** One client WebSocket frame, as raw as needed: any opcode, RSV bits, mask or none, a length that lies. */
export interface FrameSpec {
  opcode: number;
  payload: Buffer;
  fin?: boolean;
  /** RSV1-3 bits, 0 to 7. */
  rsv?: number;
  /** Default true: clients must mask. */
  masked?: boolean;
  /** Announce this payload length instead of the real one (only the header changes). */
  announcedLength?: number;
}

/** Encodes a frame per RFC 6455 section 5.2 without checking it makes sense. */
export function encodeFrame(spec: FrameSpec): Buffer {
  const { opcode, payload, fin = true, rsv = 0, masked = true } = spec;
  const length = spec.announcedLength ?? payload.length;
  const first = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f);
  const maskBit = masked ? 0x80 : 0;
  let header: Buffer;
  if (length < 126) header = Buffer.from([first, maskBit | length]);
  else if (length < 0x10000) {
    header = Buffer.from([first, maskBit | 126, 0, 0]);
    header.writeUInt16BE(length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  if (!masked) return Buffer.concat([header, payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([header, mask, body]);
}
