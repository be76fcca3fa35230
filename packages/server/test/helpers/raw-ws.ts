import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** One decoded server frame. */
export interface RawFrame {
  opcode: number;
  payload: Buffer;
  /** The frame exactly as it arrived: header and payload. */
  bytes: Buffer;
}

/**
 * A WebSocket client that does the upgrade by hand and keeps every byte the hub
 * sends, for tests about exact bytes and about clients that stop reading. It never
 * answers pings, like a peer that has gone away.
 */
export class RawWsClient {
  readonly socket: Socket;
  readonly frames: RawFrame[] = [];
  #buffer = Buffer.alloc(0);
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
  }

  /** Connects and upgrades; resolves once the 101 response has been read. */
  static open(port: number, path: string): Promise<RawWsClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const client = new RawWsClient(socket);
      let head = Buffer.alloc(0);
      let upgraded = false;
      socket.on('error', () => undefined);
      socket.on('close', () => (client.closed = true));
      socket.on('data', (chunk: Buffer) => {
        if (upgraded) return client.#take(chunk);
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const status = head.subarray(0, end).toString().split('\r\n')[0]!;
        if (!status.includes(' 101 ')) return reject(new Error(`upgrade refused: ${status}`));
        upgraded = true;
        resolve(client);
        client.#take(head.subarray(end + 4));
      });
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
  }

  /** Sends text frames (masked, as a client must), all in one TCP write. */
  sendTexts(texts: readonly string[]): void {
    const frames = texts.map((text) => {
      const payload = Buffer.from(text);
      const length = payload.length;
      if (length > 0xffff) throw new Error('sendTexts: frames over 64 KiB are not needed by the tests');
      const header = length < 126 ? Buffer.from([0x81, 0x80 | length]) : Buffer.from([0x81, 0x80 | 126, length >> 8, length & 0xff]);
      const mask = randomBytes(4);
      const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
      return Buffer.concat([header, mask, masked]);
    });
    this.socket.write(Buffer.concat(frames));
  }

  /** Decoded JSON of every text frame so far. */
  get messages(): Array<Record<string, unknown>> {
    return this.frames.filter((f) => f.opcode === 1).map((f) => JSON.parse(f.payload.toString('utf8')) as Record<string, unknown>);
  }

  #take(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const b = this.#buffer;
      if (b.length < 2) return;
      let length = b[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (b.length < 4) return;
        length = b.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (b.length < 10) return;
        length = Number(b.readBigUInt64BE(2));
        offset = 10;
      }
      if (b.length < offset + length) return;
      this.frames.push({ opcode: b[0]! & 0x0f, payload: b.subarray(offset, offset + length), bytes: b.subarray(0, offset + length) });
      this.#buffer = b.subarray(offset + length);
    }
  }
}
