import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import type { Message } from './clients.js';

/**
 * How a raw reader takes bytes from the kernel: as fast as they come, one small
 * read at a time with a pause after each (a slow client), or not at all once the
 * response head has arrived (a client that stopped reading).
 */
export type ReadPace = { kind: 'fast' } | { kind: 'slow'; pauseMs: number } | { kind: 'stopped' };

/**
 * A subscriber over a bare TCP socket that reads into a small fixed buffer
 * (`onread`), so "slow" really means small reads from the kernel and "stopped"
 * really leaves the bytes in the kernel: Node offers no SO_RCVBUF, and a paused
 * stream would still read ahead. Decodes SSE (chunked HTTP/1.1) or WebSocket frames
 * into messages; as a WebSocket client it answers pings, like a browser.
 */
export class RawReader {
  readonly messages: Message[] = [];
  /** Bytes read so far (head included). */
  bytesRead = 0;
  /** The response status line. */
  status = '';
  closed = false;
  /** Close code of a WebSocket close frame from the hub, if one was read. */
  closeCode: number | undefined;
  readonly #socket: Socket;
  readonly #protocol: 'sse' | 'sse-http1.0' | 'ws';
  #pace: ReadPace;
  #head: Buffer | undefined = Buffer.alloc(0) as Buffer;
  #body: Buffer = Buffer.alloc(0);
  #text = '';
  readonly #utf8 = new StringDecoder('utf8');

  private constructor(port: number, protocol: 'sse' | 'sse-http1.0' | 'ws', pace: ReadPace, readBytes: number) {
    this.#protocol = protocol;
    this.#pace = pace;
    this.#socket = connect({
      host: '127.0.0.1',
      port,
      onread: {
        buffer: Buffer.alloc(readBytes),
        callback: (size, buffer) => {
          this.#onRead(Buffer.from(buffer.subarray(0, size)));
          return true;
        },
      },
    });
    this.#socket.on('error', () => undefined);
    this.#socket.on('close', () => (this.closed = true));
  }

  /**
   * Opens `GET path` as an SSE stream (with extra request headers). Over HTTP/1.0
   * the body is not chunked, which makes the hub write through the response
   * instead of straight to the socket.
   */
  static sse(port: number, path: string, pace: ReadPace, headers: Record<string, string> = {}, readBytes = 4096, http = '1.1'): RawReader {
    const reader = new RawReader(port, http === '1.0' ? 'sse-http1.0' : 'sse', pace, readBytes);
    const extra = Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    reader.#socket.write(`GET ${path} HTTP/${http}\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n${extra}\r\n`);
    return reader;
  }

  /** Opens `GET path` as a WebSocket. */
  static ws(port: number, path: string, pace: ReadPace, readBytes = 4096): RawReader {
    const reader = new RawReader(port, 'ws', pace, readBytes);
    reader.#socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    return reader;
  }

  /** Event envelopes received (messages with an id and a topic). */
  get events(): Message[] {
    return this.messages.filter((m) => typeof m['id'] === 'string' && typeof m['topic'] === 'string');
  }

  /** Control messages of one type. */
  control(type: string): Message[] {
    return this.messages.filter((m) => typeof m['topic'] !== 'string' && m['type'] === type);
  }

  /** Changes the pace; a stopped or slow reader that is now fast reads on at once. */
  setPace(pace: ReadPace): void {
    this.#pace = pace;
    if (pace.kind !== 'stopped') this.#socket.resume();
  }

  close(): void {
    this.#socket.destroy();
  }

  // A paused socket stops reading from the kernel (with `onread`, pause() calls
  // readStop), which keeps what this reader has not taken. pause() rather than
  // returning false, which leaves the stream flowing so that resume() does nothing.
  #onRead(chunk: Buffer): void {
    this.bytesRead += chunk.length;
    const headDone = this.#take(chunk);
    const pace = this.#pace;
    if (pace.kind === 'fast' || !headDone) return;
    this.#socket.pause();
    if (pace.kind === 'slow') setTimeout(() => this.#socket.resume(), pace.pauseMs);
  }

  /** Feeds bytes to the decoder; true once the response head has been read. */
  #take(chunk: Buffer): boolean {
    if (this.#head !== undefined) {
      const head = Buffer.concat([this.#head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        this.#head = head;
        return false;
      }
      this.status = head.subarray(0, head.indexOf('\r\n')).toString();
      this.#head = undefined;
      chunk = head.subarray(end + 4);
    }
    this.#body = this.#body.length === 0 ? chunk : Buffer.concat([this.#body, chunk]);
    if (this.#protocol === 'sse') this.#decodeChunks();
    else if (this.#protocol === 'ws') this.#decodeFrames();
    else {
      this.#sseText(this.#utf8.write(this.#body));
      this.#body = Buffer.alloc(0);
    }
    return true;
  }

  // HTTP/1.1 chunked body: `<hex size>\r\n<bytes>\r\n`, ended by a zero-size chunk.
  #decodeChunks(): void {
    for (;;) {
      const b = this.#body;
      const lineEnd = b.indexOf('\r\n');
      if (lineEnd < 0) return;
      const size = parseInt(b.subarray(0, lineEnd).toString(), 16);
      if (b.length < lineEnd + 2 + size + 2) return;
      this.#sseText(b.subarray(lineEnd + 2, lineEnd + 2 + size).toString('utf8'));
      this.#body = b.subarray(lineEnd + 2 + size + 2);
      if (size === 0) return;
    }
  }

  #sseText(text: string): void {
    this.#text += text;
    let end: number;
    while ((end = this.#text.indexOf('\n\n')) >= 0) {
      const block = this.#text.slice(0, end);
      this.#text = this.#text.slice(end + 2);
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6));
      if (data.length > 0) this.messages.push(JSON.parse(data.join('\n')) as Message);
    }
  }

  #decodeFrames(): void {
    for (;;) {
      const b = this.#body;
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
      const opcode = b[0]! & 0x0f;
      const payload = b.subarray(offset, offset + length);
      this.#body = b.subarray(offset + length);
      if (opcode === 0x1) this.messages.push(JSON.parse(payload.toString('utf8')) as Message);
      else if (opcode === 0x9) this.#sendMasked(0xa, payload);
      else if (opcode === 0x8) this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
    }
  }

  /** Sends a short masked frame (a pong), as a client must. */
  #sendMasked(opcode: number, payload: Buffer): void {
    const mask = randomBytes(4);
    const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
    this.#socket.write(Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), mask, masked]));
  }
}
