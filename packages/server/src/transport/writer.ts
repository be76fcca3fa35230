/**
 * Where a connection's bytes go. A connection writes through one `FrameSink` at a
 * time and measures and waits on that same sink, so what it counts as buffered is
 * always what it wrote (see drain.ts for why that matters). The transports differ
 * only in their frames (a `Framing`) and in their fallback; the cork per tick and
 * the drain wait are written once, here (and the goodbye with its grace period
 * once, in `Connection.close`).
 */
import type { ControlMessage } from '@herald/protocol';
import type { EncodeCounter, LogEvent } from '../encoding/log-event.js';
import { uncorkAtEndOfTick, type Uncorkable } from './cork.js';
import { drained, type DrainSource } from './drain.js';

/** How one transport frames each kind of message for one kind of stream. */
export interface Framing {
  /** The event's frame, built once per event and shared by every connection (see LogEvent). */
  event(event: LogEvent, count: EncodeCounter): Buffer;
  /** A control message's frame; `position`, where the transport has such a field, resumes the client there. */
  control(message: ControlMessage, position: string | undefined): Buffer;
  /** The heartbeat frame, built once. */
  readonly heartbeat: Buffer;
}

/** One way of getting a connection's messages out, and of measuring what is still waiting. */
export interface FrameSink {
  /** Writes an event's shared frame. */
  event(event: LogEvent): void;
  /** Writes a control message (see `Framing.control` for `position`). */
  control(message: ControlMessage, position: string | undefined): void;
  /** Writes the heartbeat. */
  heartbeat(): void;
  /** Bytes written but not yet handed to the kernel. */
  bufferedBytes(): number;
  /** Resolves once those bytes have left (or the stream closed); at once when no wait is due. */
  drained(): Promise<void>;
}

/** The part of a writable stream (a socket, or a ServerResponse) a `StreamSink` writes to. */
export interface FrameStream extends DrainSource {
  write(chunk: Buffer): unknown;
  cork(): void;
  uncork(): void;
}

/**
 * Writes a transport's ready-made frames to one stream. With `corkPerTick`, the
 * stream is corked on the first write of a tick and uncorked at its end, so every
 * frame due in one turn of the event loop leaves in one writev (docs/benchmarks.md: the
 * number of write syscalls decides fan-out throughput). Without, every write goes
 * out as the stream's own `write` makes it: SSE's `res.write` path, which carries
 * only what precedes `open` and the rare stream that is not chunked HTTP/1.1.
 */
export class StreamSink implements FrameSink, Uncorkable {
  readonly #stream: FrameStream;
  readonly #framing: Framing;
  readonly #count: EncodeCounter;
  readonly #corkPerTick: boolean;
  #corked = false;

  /** Writes `framing`'s frames to `stream`, corked per tick when `corkPerTick`; `count` counts first encodings. */
  constructor(stream: FrameStream, framing: Framing, count: EncodeCounter, corkPerTick: boolean) {
    this.#stream = stream;
    this.#framing = framing;
    this.#count = count;
    this.#corkPerTick = corkPerTick;
  }

  event(event: LogEvent): void {
    this.#write(this.#framing.event(event, this.#count));
  }

  control(message: ControlMessage, position: string | undefined): void {
    this.#write(this.#framing.control(message, position));
  }

  heartbeat(): void {
    this.#write(this.#framing.heartbeat);
  }

  #write(frame: Buffer): void {
    if (this.#corkPerTick && !this.#corked) {
      this.#corked = true;
      this.#stream.cork();
      uncorkAtEndOfTick(this);
    }
    this.#stream.write(frame);
  }

  /** Ends the cork started by the first write of a tick (cork.ts calls it). */
  uncork(): void {
    this.#corked = false;
    this.#stream.uncork();
  }

  bufferedBytes(): number {
    return this.#stream.writableLength;
  }

  drained(): Promise<void> {
    return drained(this.#stream);
  }
}
