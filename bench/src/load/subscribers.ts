/**
 * Subscriber connections of the load generator: raw TCP sockets that speak just
 * enough WebSocket, Socket.IO (engine.io v4 over WebSocket) or SSE to subscribe and
 * count event frames. All reads land in one shared buffer (`onread`), so an idle
 * or non-sampled connection allocates nothing per frame.
 */
import { connect, type Socket } from 'node:net';
import { Histogram, type HistogramData } from '../lib/histogram.js';
import { nowUs, sentTimeIn } from '../lib/payload.js';
import { clientFrame, clientText, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, upgradeRequest, WsFrameReader } from './ws-wire.js';

/** How a subscriber talks to the server. */
export type Wire = 'ws' | 'sse' | 'eio';

/** Which topic connection i subscribes to. */
export type TopicSpec = { kind: 'single'; topic: string } | { kind: 'spread'; prefix: string; count: number };

/** The topic of connection `i`. */
export function topicOf(spec: TopicSpec, i: number): string {
  return spec.kind === 'single' ? spec.topic : `${spec.prefix}${i % spec.count}`;
}

/** A group of identical subscriber connections. */
export interface GroupSpec {
  wire: Wire;
  host: string;
  port: number;
  /** Request path with `{topic}` where the URL-encoded topic goes, e.g. `/ws?topic={topic}`. */
  path: string;
  count: number;
  topics: TopicSpec;
  /** Added to the connection index before picking its topic (groups split over agents). */
  topicOffset: number;
  /** Source addresses, used in turn (each gives about 28k ephemeral ports). */
  localAddresses: string[];
  /** Connection attempts in flight at once (keeps the listen backlog from overflowing). */
  concurrency: number;
  /** Every n-th connection parses frames for latency (0: none). */
  sampleEvery: number;
  /** Give up on connections not ready after this long. */
  timeoutMs: number;
}

/** Counters of a group, as sent to the controller. */
export interface GroupCounts {
  /** Event frames received since the last reset. */
  frames: number;
  ready: number;
  open: number;
  /** Connections that ended while the group was not closing them. */
  dropped: number;
  /** Connections that never became ready. */
  failed: number;
  /** Heartbeats received (Herald heartbeat messages, engine.io pings); not reset by steps. */
  heartbeats: number;
  /** Publish-to-receive latency of sampled connections since the last reset. */
  latency: HistogramData;
}

const SHARED = Buffer.allocUnsafe(256 * 1024);
const CRLFCRLF = Buffer.from('\r\n\r\n');
const SSE_EVENT = Buffer.from('\nid: ');
const HEARTBEAT = Buffer.from('"heartbeat"');
const CH_BRACE = 0x7b;
const CH_QUOTE = 0x22;
const CH_I = 0x69;
const CH_0 = 0x30;
const CH_2 = 0x32;
const CH_4 = 0x34;

/** Shared mutable counters of a group; connections add to them directly. */
class Tally {
  frames = 0;
  ready = 0;
  open = 0;
  dropped = 0;
  heartbeats = 0;
  closing = false;
  readonly latency = new Histogram();
}

/** One subscriber connection. */
class Subscriber {
  readonly #socket: Socket;
  readonly #tally: Tally;
  readonly #wire: Wire;
  readonly #sampled: boolean;
  #head: string | undefined = '';
  #reader: WsFrameReader | undefined;
  #ready = false;
  #connected = false;
  #sseTail = Buffer.alloc(0);
  #ssePending = '';
  readonly whenReady: Promise<boolean>;
  #settle: (ok: boolean) => void = () => undefined;

  constructor(spec: GroupSpec, tally: Tally, topic: string, localAddress: string | undefined, sampled: boolean) {
    this.#tally = tally;
    this.#wire = spec.wire;
    this.#sampled = sampled;
    this.whenReady = new Promise((resolve) => (this.#settle = resolve));
    const path = spec.path.replace('{topic}', encodeURIComponent(topic));
    this.#socket = connect({
      host: spec.host,
      port: spec.port,
      ...(localAddress === undefined ? {} : { localAddress }),
      noDelay: true,
      onread: { buffer: SHARED, callback: (n: number, buffer: Uint8Array) => this.#onBytes(buffer as Buffer, n) },
    });
    this.#socket.on('connect', () => {
      this.#connected = true;
      tally.open++;
      const request =
        spec.wire === 'sse'
          ? `GET ${path} HTTP/1.1\r\nHost: ${spec.host}:${spec.port}\r\nAccept: text/event-stream\r\n\r\n`
          : upgradeRequest(spec.host, spec.port, path);
      this.#socket.write(request);
    });
    this.#socket.on('error', () => undefined);
    this.#socket.on('close', () => {
      if (this.#connected) tally.open--;
      if (this.#ready && !tally.closing) tally.dropped++;
      this.#settle(false);
    });
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #becomeReady(): void {
    if (this.#ready) return;
    this.#ready = true;
    this.#tally.ready++;
    this.#settle(true);
  }

  #onBytes(buffer: Buffer, n: number): boolean {
    if (this.#head !== undefined) {
      // Response head: accumulate until the blank line (it is small and comes once).
      const end = buffer.subarray(0, n).indexOf(CRLFCRLF);
      this.#head += buffer.toString('latin1', 0, end < 0 ? n : end + 4);
      if (end < 0) return true;
      const expected = this.#wire === 'sse' ? ' 200 ' : ' 101 ';
      if (!this.#head.startsWith('HTTP/1.1') || !this.#head.slice(0, 16).includes(expected)) {
        this.#socket.destroy();
        return false;
      }
      this.#head = undefined;
      if (this.#wire !== 'sse')
        this.#reader = new WsFrameReader(this.#sampled, (opcode, length, p0, p1, p2, payload) => this.#onFrame(opcode, length, p0, p1, p2, payload));
      if (end + 4 < n) this.#body(buffer, end + 4, n);
      return true;
    }
    this.#body(buffer, 0, n);
    return true;
  }

  #body(buffer: Buffer, start: number, end: number): void {
    if (this.#reader !== undefined) this.#reader.push(buffer, start, end);
    else this.#sse(buffer, start, end);
  }

  // SSE: every event frame starts with an `id:` line and nothing else does, so events
  // are counted by occurrences of "\nid: " (the chunk-size line before each write ends
  // in \n). The last 4 bytes are carried over in case a match straddles two reads.
  #sse(shared: Buffer, start: number, end: number): void {
    this.#becomeReady();
    // `shared` is the whole read buffer: search only the bytes this read filled.
    const buffer = shared.subarray(0, end);
    if (buffer.indexOf(HEARTBEAT, start) >= 0) this.#tally.heartbeats++;
    if (this.#sampled) return this.#sseSampled(buffer.toString('latin1', start, end));
    const tail = this.#sseTail;
    if (tail.length > 0) {
      const joined = Buffer.concat([tail, buffer.subarray(start, Math.min(end, start + 4))]);
      for (let at = joined.indexOf(SSE_EVENT); at >= 0 && at < tail.length; at = joined.indexOf(SSE_EVENT, at + 1)) {
        this.#tally.frames++;
      }
    }
    for (let at = buffer.indexOf(SSE_EVENT, start); at >= 0; at = buffer.indexOf(SSE_EVENT, at + 5)) this.#tally.frames++;
    const keep = Math.min(4, end - start);
    this.#sseTail = Buffer.from(buffer.subarray(end - keep, end));
  }

  // Sampled SSE connections split the stream into frames and read the send time.
  #sseSampled(text: string): void {
    let pending = this.#ssePending + text;
    for (let end = pending.indexOf('\n\n'); end >= 0; end = pending.indexOf('\n\n')) {
      const frame = pending.slice(0, end);
      pending = pending.slice(end + 2);
      const id = frame.indexOf('id: ');
      if (id < 0 || (id > 0 && frame[id - 1] !== '\n')) continue;
      this.#tally.frames++;
      const t = sentTimeIn(Buffer.from(frame, 'latin1'));
      if (t > 0) this.#tally.latency.record(nowUs() - t);
    }
    this.#ssePending = pending;
  }

  #onFrame(opcode: number, length: number, p0: number, p1: number, p2: number, payload: Buffer | undefined): void {
    if (opcode === OP_TEXT) {
      if (this.#wire === 'eio') return this.#eio(length, p0, p1, payload);
      if (p0 === CH_BRACE && p1 === CH_QUOTE && p2 === CH_I) return this.#event(payload);
      if (this.#ready && payload !== undefined && payload.indexOf(HEARTBEAT) >= 0) this.#tally.heartbeats++;
      this.#becomeReady(); // the first control message is `connected`
      return;
    }
    if (opcode === OP_PING) this.#socket.write(clientFrame(OP_PONG, payload ?? Buffer.alloc(0)));
    else if (opcode === OP_CLOSE) this.#socket.end();
  }

  #event(payload: Buffer | undefined): void {
    this.#tally.frames++;
    if (payload === undefined) return;
    const t = sentTimeIn(payload);
    if (t > 0) this.#tally.latency.record(nowUs() - t);
  }

  // engine.io v4 packets: 0 open, 2 ping, 4 message (then socket.io 0 connect, 2 event).
  #eio(length: number, p0: number, p1: number, payload: Buffer | undefined): void {
    if (p0 === CH_4 && p1 === CH_2) return this.#event(payload);
    if (p0 === CH_0) this.#socket.write(clientText('40'));
    else if (p0 === CH_4 && p1 === CH_0) this.#becomeReady();
    else if (p0 === CH_2 && length === 1) {
      this.#tally.heartbeats++;
      this.#socket.write(clientText('3'));
    }
  }
}

/** A group of subscribers opened together and counted together. */
export class SubscriberGroup {
  readonly spec: GroupSpec;
  readonly #tally = new Tally();
  readonly #subscribers: Subscriber[] = [];
  #failed = 0;

  constructor(spec: GroupSpec) {
    this.spec = spec;
  }

  /** Opens every connection, `concurrency` at a time; resolves when each is ready or has failed. */
  async open(): Promise<{ ready: number; failed: number; ms: number }> {
    const started = Date.now();
    const spec = this.spec;
    const deadline = started + spec.timeoutMs;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < spec.count && Date.now() < deadline) {
        const i = next++;
        const local = spec.localAddresses.length === 0 ? undefined : spec.localAddresses[i % spec.localAddresses.length];
        const sampled = spec.sampleEvery > 0 && i % spec.sampleEvery === 0;
        const subscriber = new Subscriber(spec, this.#tally, topicOf(spec.topics, spec.topicOffset + i), local, sampled);
        this.#subscribers.push(subscriber);
        const timeout = new Promise<boolean>((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now()), false).unref());
        if (!(await Promise.race([subscriber.whenReady, timeout]))) this.#failed++;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, spec.concurrency) }, worker));
    this.#failed += spec.count - this.#subscribers.length;
    return { ready: this.#tally.ready, failed: this.#failed, ms: Date.now() - started };
  }

  counts(): GroupCounts {
    const t = this.#tally;
    return { frames: t.frames, ready: t.ready, open: t.open, dropped: t.dropped, failed: this.#failed, heartbeats: t.heartbeats, latency: t.latency.toJSON() };
  }

  /** Zeroes the frame count and latency (start of a measurement step). */
  reset(): void {
    this.#tally.frames = 0;
    this.#tally.latency.reset();
  }

  close(): void {
    this.#tally.closing = true;
    for (const subscriber of this.#subscribers) subscriber.destroy();
  }
}
