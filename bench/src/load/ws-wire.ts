/**
 * Just enough RFC 6455 for a load generator: the upgrade request, a frame reader
 * that counts frames from their headers without copying payloads (unless asked),
 * and client frames. A general WebSocket client would cost the generator more CPU
 * per frame than the server spends writing it, and then it would be the bottleneck.
 */

/** Opcodes used here (RFC 6455 section 5.2). */
export const OP_TEXT = 0x1;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

// Any 16 bytes, base64: the server only echoes a hash of it, which we do not check
// (a wrong hash would be a broken server, not a benchmark result).
const KEY = 'aGVyYWxkLWJlbmNoLWtleQ==';

/** The HTTP upgrade request for `path` (which includes the query string). */
export function upgradeRequest(host: string, port: number, path: string): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`
  );
}

/**
 * A masked client frame. The mask key is zero, which RFC 6455 allows on the wire
 * (servers must unmask with whatever key is sent) and which leaves the payload
 * bytes unchanged, so the generator spends nothing on XOR.
 */
export function clientFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const extra = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const frame = Buffer.alloc(2 + extra + 4 + length);
  frame[0] = 0x80 | opcode;
  if (length < 126) frame[1] = 0x80 | length;
  else if (length < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(0, 2);
    frame.writeUInt32BE(length, 6);
  }
  payload.copy(frame, 2 + extra + 4);
  return frame;
}

/** A text frame from a string. */
export function clientText(text: string): Buffer {
  return clientFrame(OP_TEXT, Buffer.from(text));
}

/**
 * Called once per complete frame. `p0..p2` are the first three payload bytes (0 when
 * shorter), enough to tell an event from a control message. `payload` is given only
 * for frames the reader was told to keep (see `keep`).
 */
export type FrameHandler = (opcode: number, length: number, p0: number, p1: number, p2: number, payload: Buffer | undefined) => void;

/**
 * Incremental frame reader for server-to-client (unmasked) frames. Payload bytes of
 * frames it does not keep are skipped by length, never copied.
 */
export class WsFrameReader {
  readonly #head = Buffer.alloc(14);
  #headLength = 0;
  #headNeed = 2;
  #inPayload = false;
  #remaining = 0;
  #length = 0;
  #opcode = 0;
  #seen = 0;
  #p0 = 0;
  #p1 = 0;
  #p2 = 0;
  #parts: Buffer[] | undefined;
  readonly #keepAll: boolean;
  readonly #onFrame: FrameHandler;

  /** `keepAll`: hand every payload to the handler (sampled connections); otherwise only control frames and frames of at most 64 bytes. */
  constructor(keepAll: boolean, onFrame: FrameHandler) {
    this.#keepAll = keepAll;
    this.#onFrame = onFrame;
  }

  push(chunk: Buffer, start = 0, end = chunk.length): void {
    let i = start;
    while (i < end) {
      if (!this.#inPayload) {
        i = this.#readHead(chunk, i, end);
        if (!this.#inPayload) return;
        if (this.#remaining === 0) {
          this.#finish();
          continue;
        }
      }
      const take = Math.min(this.#remaining, end - i);
      if (this.#seen < 3) this.#prefix(chunk, i, take);
      if (this.#parts !== undefined) this.#parts.push(Buffer.from(chunk.subarray(i, i + take)));
      this.#seen += take;
      this.#remaining -= take;
      i += take;
      if (this.#remaining === 0) this.#finish();
    }
  }

  #readHead(chunk: Buffer, start: number, end: number): number {
    let i = start;
    const head = this.#head;
    while (i < end && this.#headLength < this.#headNeed) {
      head[this.#headLength++] = chunk[i++]!;
      if (this.#headLength === 2) {
        const short = head[1]! & 0x7f;
        this.#headNeed = 2 + (short === 126 ? 2 : short === 127 ? 8 : 0) + (head[1]! & 0x80 ? 4 : 0);
      }
    }
    if (this.#headLength < this.#headNeed) return i;
    const short = head[1]! & 0x7f;
    this.#length = short < 126 ? short : short === 126 ? head.readUInt16BE(2) : head.readUInt32BE(6);
    this.#opcode = head[0]! & 0x0f;
    this.#remaining = this.#length;
    this.#seen = 0;
    this.#p0 = this.#p1 = this.#p2 = 0;
    this.#parts = this.#keepAll || this.#opcode >= 8 || this.#length <= 64 ? [] : undefined;
    this.#headLength = 0;
    this.#headNeed = 2;
    this.#inPayload = true;
    return i;
  }

  #prefix(chunk: Buffer, at: number, take: number): void {
    for (let k = 0; k < take && this.#seen + k < 3; k++) {
      const byte = chunk[at + k]!;
      const index = this.#seen + k;
      if (index === 0) this.#p0 = byte;
      else if (index === 1) this.#p1 = byte;
      else this.#p2 = byte;
    }
  }

  #finish(): void {
    this.#inPayload = false;
    const parts = this.#parts;
    this.#parts = undefined;
    const payload = parts === undefined ? undefined : parts.length === 1 ? parts[0] : Buffer.concat(parts);
    this.#onFrame(this.#opcode, this.#length, this.#p0, this.#p1, this.#p2, payload);
  }
}
