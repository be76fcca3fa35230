import { serializeEnvelope, sseEventFrame, type Envelope } from '@herald/protocol';
import { encodeTextFrame } from './ws-frame.js';

const CRLF = Buffer.from('\r\n');

/** Counts encodings so tests and /metrics can show each event is encoded once per transport. */
export interface EncodeCounter {
  (transport: 'sse' | 'ws'): void;
}

/**
 * One event in the log, with its wire encodings built lazily, once, and shared by
 * every connection that receives it (live or replayed from the same log entry).
 */
export class LogEvent {
  readonly envelope: Envelope;
  /**
   * Where the event sits in the log: a fixed-width string, so plain string
   * comparison orders events (`a.position < b.position` means a came first).
   */
  readonly position: string;
  /** Milliseconds since the epoch when the hub accepted the event (for age retention and latency). */
  readonly acceptedAt: number;
  #json: string | undefined;
  /** `envelope.data` as JSON, when the broker has it already; dropped once `#json` holds it. */
  #dataJson: string | undefined;
  #sseFrame: Buffer | undefined;
  #wsFrame: Buffer | undefined;
  #sseChunk: Buffer | undefined;

  constructor(envelope: Envelope, position: string, acceptedAt: number, dataJson?: string) {
    this.envelope = envelope;
    this.position = position;
    this.acceptedAt = acceptedAt;
    this.#dataJson = dataJson;
  }

  get id(): string {
    return this.envelope.id;
  }

  get topic(): string {
    return this.envelope.topic;
  }

  /** The envelope as JSON, serialized once, when first needed (an event nobody receives never is). */
  get json(): string {
    if (this.#json === undefined) {
      this.#json = serializeEnvelope(this.envelope, this.#dataJson);
      this.#dataJson = undefined;
    }
    return this.#json;
  }

  /** The SSE frame bytes: `id:` line, `data:` line, blank line. */
  sseFrame(count?: EncodeCounter): Buffer {
    if (this.#sseFrame === undefined) {
      this.#sseFrame = Buffer.from(sseEventFrame(this.envelope.id, this.json));
      count?.('sse');
    }
    return this.#sseFrame;
  }

  /**
   * The SSE frame as one HTTP/1.1 chunk (size line, frame, CRLF), for responses
   * written straight to their socket: one buffer per delivery instead of the four
   * writes Node's chunked `res.write` makes.
   */
  sseChunk(count?: EncodeCounter): Buffer {
    if (this.#sseChunk === undefined) {
      const frame = this.sseFrame();
      this.#sseChunk = Buffer.concat([Buffer.from(`${frame.length.toString(16)}\r\n`), frame, CRLF]);
      count?.('sse');
    }
    return this.#sseChunk;
  }

  /** The complete WebSocket text frame bytes. */
  wsFrame(count?: EncodeCounter): Buffer {
    if (this.#wsFrame === undefined) {
      this.#wsFrame = encodeTextFrame(Buffer.from(this.json));
      count?.('ws');
    }
    return this.#wsFrame;
  }

  /** Bytes of the serialized envelope, used for size limits. */
  get size(): number {
    return Buffer.byteLength(this.json);
  }
}
