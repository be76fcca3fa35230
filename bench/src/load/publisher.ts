/**
 * The load generator's publisher. It speaks each server's own publish API over raw
 * sockets: Herald's WebSocket `publish` (which the baselines also accept), Socket.IO
 * `emit` with an acknowledgement, and `POST /publish` single or batched. It runs
 * open loop (a fixed schedule of events per second, for fan-out) or closed loop
 * (a fixed number of requests in flight, for the saturation probe and ingest).
 */
import { connect, type Socket } from 'node:net';
import { Histogram, type HistogramData } from '../lib/histogram.js';
import { eventData, nowUs } from '../lib/payload.js';
import { topicOf, type TopicSpec } from './subscribers.js';
import { clientFrame, clientText, OP_PING, OP_PONG, OP_TEXT, upgradeRequest, WsFrameReader } from './ws-wire.js';

/** How events are published. */
export type PublishMode = 'ws' | 'eio' | 'http';

/** What to publish and how fast. */
export interface PublishSpec {
  mode: PublishMode;
  host: string;
  port: number;
  /** `/ws`, `/socket.io/?EIO=4&transport=websocket` or `/publish`. */
  path: string;
  topics: TopicSpec;
  /** Events per HTTP request (1: a single event object; more: an array). */
  batch: number;
  /** Parallel connections (HTTP ingest); WebSocket modes use one. */
  connections: number;
  /** Open loop: events per second. Omitted: closed loop with `window` requests in flight per connection. */
  rate?: number;
  window: number;
  durationMs: number;
  localAddress?: string;
}

/** What the publisher did. */
export interface PublishResult {
  /** Events sent (a batch counts its events). */
  sent: number;
  /** Events the server acknowledged. */
  acked: number;
  /** Requests refused or failed. */
  errors: number;
  /** From the first send to the last acknowledgement counted. */
  elapsedMs: number;
  /** Open loop: at least 99% of events left within 10 ms of their due time, and all were sent. */
  onSchedule: boolean;
  /** Open loop: how late the latest send was. */
  maxLagMs: number;
  /** Request round trip (send to acknowledgement). */
  ackLatency: HistogramData;
}

const CRLFCRLF = '\r\n\r\n';
const ON_TIME_US = 10_000;

/** One publishing connection: sends requests and matches acknowledgements in order. */
abstract class Channel {
  protected socket!: Socket;
  readonly sendTimes: number[] = [];
  #sendHead = 0;
  acked = 0;
  errors = 0;
  onAck: (events: number) => void = () => undefined;
  protected ready!: () => void;
  readonly opened: Promise<void>;
  protected readonly spec: PublishSpec;
  readonly #batchSizes: number[] = [];

  constructor(spec: PublishSpec) {
    this.spec = spec;
    this.opened = new Promise((resolve, reject) => {
      this.ready = resolve;
      this.socket = connect({
        host: spec.host,
        port: spec.port,
        noDelay: true,
        ...(spec.localAddress === undefined ? {} : { localAddress: spec.localAddress }),
      });
      this.socket.on('error', reject);
      this.socket.on('connect', () => this.start());
      this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    });
  }

  get inFlight(): number {
    return this.sendTimes.length - this.#sendHead;
  }

  /** Queues a request carrying `events` events. */
  send(seq: number, events: number): void {
    this.sendTimes.push(nowUs());
    this.#batchSizes.push(events);
    this.socket.write(this.request(seq, events));
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  /** Records the acknowledgement of the oldest request in flight. */
  protected acknowledge(ok: boolean, latency: Histogram | undefined): void {
    const sentAt = this.sendTimes[this.#sendHead];
    const events = this.#batchSizes[this.#sendHead] ?? 1;
    this.#sendHead++;
    if (this.#sendHead > 4096 && this.#sendHead * 2 > this.sendTimes.length) {
      this.sendTimes.splice(0, this.#sendHead);
      this.#batchSizes.splice(0, this.#sendHead);
      this.#sendHead = 0;
    }
    if (sentAt !== undefined) latency?.record(nowUs() - sentAt);
    if (ok) this.acked += events;
    else this.errors++;
    this.onAck(events);
  }

  latency: Histogram | undefined;

  close(): void {
    this.socket.destroy();
  }

  protected abstract start(): void;
  protected abstract receive(chunk: Buffer): void;
  protected abstract request(seq: number, events: number): string | Buffer;
}

/** A channel over a WebSocket this client upgrades itself; subclasses read the frames. */
abstract class UpgradedChannel extends Channel {
  #head: string | undefined = '';
  #reader = new WsFrameReader(true, (opcode, _length, _p0, _p1, _p2, payload) => this.frame(opcode, payload));

  protected start(): void {
    this.socket.write(upgradeRequest(this.spec.host, this.spec.port, this.spec.path));
  }

  protected receive(chunk: Buffer): void {
    if (this.#head !== undefined) {
      this.#head += chunk.toString('latin1');
      const end = this.#head.indexOf(CRLFCRLF);
      if (end < 0) return;
      const rest = Buffer.from(this.#head.slice(end + 4), 'latin1');
      this.#head = undefined;
      if (rest.length > 0) this.#reader.push(rest);
      return;
    }
    this.#reader.push(chunk);
  }

  protected abstract frame(opcode: number, payload: Buffer | undefined): void;
}

/** Herald's WebSocket publish (the raw and hand-rolled baselines accept the same message). */
class WsChannel extends UpgradedChannel {
  #connected = false;

  protected frame(opcode: number, payload: Buffer | undefined): void {
    if (opcode === OP_PING) {
      this.socket.write(clientFrame(OP_PONG, payload ?? Buffer.alloc(0)));
      return;
    }
    if (opcode !== OP_TEXT || payload === undefined) return;
    const text = payload.toString('latin1', 0, 24);
    if (!this.#connected) {
      this.#connected = true; // the first message is `connected`
      this.ready();
      return;
    }
    if (text.startsWith('{"type":"published"')) this.acknowledge(true, this.latency);
    else if (text.startsWith('{"type":"error"')) this.acknowledge(false, this.latency);
  }

  protected request(seq: number): Buffer {
    const topic = topicOf(this.spec.topics, seq);
    return clientText(`{"type":"publish","topic":"${topic}","event":"bench","data":${eventData(seq)},"ref":${seq}}`);
  }
}

/** Socket.IO: engine.io v4 over WebSocket, `emit('publish', event, ack)`. */
class EioChannel extends UpgradedChannel {
  protected frame(opcode: number, payload: Buffer | undefined): void {
    if (opcode !== OP_TEXT || payload === undefined) return;
    const type = payload[0];
    if (type === 0x30)
      this.socket.write(clientText('40')); // open → connect to "/"
    else if (type === 0x32 && payload.length === 1)
      this.socket.write(clientText('3')); // ping → pong
    else if (type === 0x34 && payload[1] === 0x30)
      this.ready(); // connected to "/"
    else if (type === 0x34 && payload[1] === 0x33) this.acknowledge(true, this.latency); // ack
  }

  protected request(seq: number): Buffer {
    const topic = topicOf(this.spec.topics, seq);
    return clientText(`42${seq}["publish",{"topic":"${topic}","event":"bench","data":${eventData(seq)}}]`);
  }
}

/** `POST /publish` on a keep-alive connection, one request in flight or pipelined. */
class HttpChannel extends Channel {
  #pending = '';

  protected start(): void {
    this.ready();
  }

  protected receive(chunk: Buffer): void {
    this.#pending += chunk.toString('latin1');
    for (;;) {
      const end = this.#pending.indexOf(CRLFCRLF);
      if (end < 0) return;
      const head = this.#pending.slice(0, end);
      const match = /\r\ncontent-length: *(\d+)/i.exec(head);
      const bodyLength = match === null ? 0 : Number(match[1]);
      if (this.#pending.length < end + 4 + bodyLength) return;
      this.#pending = this.#pending.slice(end + 4 + bodyLength);
      this.acknowledge(head.startsWith('HTTP/1.1 2'), this.latency);
    }
  }

  protected request(seq: number, events: number): string {
    const one = (k: number): string => `{"topic":"${topicOf(this.spec.topics, k)}","type":"bench","data":${eventData(k)}}`;
    let body: string;
    if (this.spec.batch <= 1) body = one(seq);
    else {
      const items: string[] = [];
      for (let k = 0; k < events; k++) items.push(one(seq + k));
      body = `[${items.join(',')}]`;
    }
    return (
      `POST ${this.spec.path} HTTP/1.1\r\nHost: ${this.spec.host}:${this.spec.port}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
    );
  }
}

function channelFor(spec: PublishSpec): Channel {
  if (spec.mode === 'ws') return new WsChannel(spec);
  if (spec.mode === 'eio') return new EioChannel(spec);
  return new HttpChannel(spec);
}

/** Opens the publisher's connections and waits until each can publish. */
export async function openPublisher(spec: PublishSpec): Promise<Publisher> {
  const count = spec.mode === 'http' ? Math.max(1, spec.connections) : 1;
  const channels = Array.from({ length: count }, () => channelFor(spec));
  await Promise.all(channels.map((channel) => channel.opened));
  return new Publisher(channels);
}

/** Open publishing connections, reusable across steps. */
export class Publisher {
  readonly #channels: Channel[];
  #seq = 0;

  constructor(channels: Channel[]) {
    this.#channels = channels;
  }

  /** Runs one step as `spec` says (rate → open loop, else closed loop). */
  run(spec: Pick<PublishSpec, 'rate' | 'window' | 'durationMs' | 'batch'>): Promise<PublishResult> {
    return spec.rate === undefined ? this.#closedLoop(spec) : this.#openLoop(spec.rate, spec.durationMs);
  }

  close(): void {
    for (const channel of this.#channels) channel.close();
  }

  #reset(latency: Histogram): void {
    for (const channel of this.#channels) {
      channel.acked = 0;
      channel.errors = 0;
      channel.latency = latency;
      channel.onAck = () => undefined;
    }
  }

  #result(sent: number, startUs: number, latency: Histogram, onSchedule: boolean, maxLagUs: number): PublishResult {
    let acked = 0;
    let errors = 0;
    for (const channel of this.#channels) {
      acked += channel.acked;
      errors += channel.errors;
    }
    return { sent, acked, errors, elapsedMs: (nowUs() - startUs) / 1000, onSchedule, maxLagMs: maxLagUs / 1000, ackLatency: latency.toJSON() };
  }

  // Events due by now are sent together (corked: one write), each as its own publish.
  #openLoop(rate: number, durationMs: number): Promise<PublishResult> {
    const channel = this.#channels[0]!;
    const latency = new Histogram();
    this.#reset(latency);
    const total = Math.max(1, Math.round((rate * durationMs) / 1000));
    const startUs = nowUs();
    let sent = 0;
    let late = 0;
    let maxLag = 0;
    return new Promise((resolve) => {
      const tick = (): void => {
        const now = nowUs();
        const due = Math.min(total, Math.floor(((now - startUs) * rate) / 1e6) + 1);
        if (due > sent) {
          const lag = now - (startUs + (sent * 1e6) / rate);
          if (lag > maxLag) maxLag = lag;
          channel.cork();
          for (; sent < due; sent++) {
            if (now - (startUs + (sent * 1e6) / rate) > ON_TIME_US) late++;
            channel.send(this.#seq++, 1);
          }
          channel.uncork();
        }
        if (sent >= total) {
          const onSchedule = late <= total * 0.01;
          // Wait (bounded) for the last acknowledgements so `acked` is meaningful.
          const waitUntil = Date.now() + 2000;
          const settle = (): void => {
            if (channel.inFlight === 0 || Date.now() > waitUntil) resolve(this.#result(sent, startUs, latency, onSchedule, maxLag));
            else setTimeout(settle, 5);
          };
          settle();
          return;
        }
        const nextDue = startUs + (sent * 1e6) / rate;
        setTimeout(tick, Math.max(0, Math.floor((nextDue - nowUs()) / 1000)));
      };
      tick();
    });
  }

  // Each connection keeps `window` requests in flight until the duration is over.
  #closedLoop(spec: Pick<PublishSpec, 'window' | 'durationMs' | 'batch'>): Promise<PublishResult> {
    const latency = new Histogram();
    this.#reset(latency);
    const batch = Math.max(1, spec.batch);
    const startUs = nowUs();
    const endUs = startUs + spec.durationMs * 1000;
    let sent = 0;
    return new Promise((resolve) => {
      let open = this.#channels.length;
      for (const channel of this.#channels) {
        const pump = (): void => {
          if (nowUs() >= endUs) {
            if (channel.inFlight === 0 && --open === 0) resolve(this.#result(sent, startUs, latency, true, 0));
            return;
          }
          channel.send(this.#seq, batch);
          this.#seq += batch;
          sent += batch;
        };
        channel.onAck = pump;
        channel.cork();
        for (let k = 0; k < Math.max(1, spec.window); k++) pump();
        channel.uncork();
      }
      // A server that stops answering must not hang the run.
      setTimeout(() => resolve(this.#result(sent, startUs, latency, true, 0)), spec.durationMs + 10_000).unref();
    });
  }
}
