/**
 * What the baseline servers share: flags, the event envelope (the same fields and
 * order as Herald's, so every server sends the same bytes per event), and the
 * harness's way in: `GET /healthz`, `POST /publish` (one event or an array, as
 * Herald's) and, on WebSocket servers, Herald's `publish` message.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** Flags every baseline server takes. */
export interface ServerFlags {
  port: number;
  host: string;
  /** Heartbeat interval in ms (Socket.IO's pingInterval); others ignore it. */
  heartbeatMs: number;
}

/** Reads `--port N --host H --heartbeat MS`. */
export function parseFlags(argv: readonly string[]): ServerFlags {
  const value = (name: string): string | undefined => {
    const at = argv.indexOf(`--${name}`);
    return at < 0 ? undefined : argv[at + 1];
  };
  return { port: Number(value('port') ?? 0), host: value('host') ?? '127.0.0.1', heartbeatMs: Number(value('heartbeat') ?? 25_000) };
}

/** Herald's envelope: id, topic, type, data, timestamp, in this order. */
export interface Envelope {
  id: string;
  topic: string;
  type: string;
  data: unknown;
  timestamp: string;
}

const epoch = randomBytes(5).toString('hex');
let sequence = 0;

/** A new envelope with an `<epoch>-<n>` id and the current time, like Herald's. */
export function envelope(topic: string, type: string, data: unknown): Envelope {
  return { id: `${epoch}-${++sequence}`, topic, type, data, timestamp: new Date().toISOString() };
}

/** Publishes one event; returns its id. */
export type PublishFn = (topic: string, type: string, data: unknown) => string;

interface PublishItem {
  topic?: unknown;
  type?: unknown;
  data?: unknown;
}

function publishItem(publish: PublishFn, item: PublishItem): string {
  if (typeof item.topic !== 'string') throw new Error('topic must be a string');
  return publish(item.topic, typeof item.type === 'string' ? item.type : 'message', item.data ?? null);
}

/** Handles `POST /publish` and `GET /healthz`; returns false for anything else. */
export function handleHarnessRequest(req: IncomingMessage, res: ServerResponse, publish: PublishFn): boolean {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/healthz') {
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    return true;
  }
  if (path !== '/publish' || req.method !== 'POST') return false;
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as PublishItem | PublishItem[];
      const ids = Array.isArray(body) ? body.map((item) => publishItem(publish, item)) : [publishItem(publish, body)];
      const json = JSON.stringify({ ids });
      res.writeHead(201, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) }).end(json);
    } catch (error) {
      const json = JSON.stringify({ error: (error as Error).message });
      res.writeHead(400, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) }).end(json);
    }
  });
  return true;
}

/**
 * Answers Herald's WebSocket `publish` message with `published` (as Herald does);
 * returns the reply text, or undefined when the message is not a publish.
 */
export function handlePublishMessage(text: string, publish: PublishFn): string | undefined {
  let message: { type?: unknown; topic?: unknown; event?: unknown; data?: unknown; ref?: unknown };
  try {
    message = JSON.parse(text) as typeof message;
  } catch {
    return '{"type":"error","code":"invalid_json"}';
  }
  if (message.type !== 'publish') return undefined;
  try {
    const id = publishItem(publish, { topic: message.topic, type: message.event, data: message.data });
    return `{"type":"published","id":"${id}","duplicate":false${message.ref === undefined ? '' : `,"ref":${JSON.stringify(message.ref)}`}}`;
  } catch {
    return '{"type":"error","code":"invalid_request"}';
  }
}

/** A topic → members map. */
export class Topics<T> {
  readonly #members = new Map<string, Set<T>>();

  add(topic: string, member: T): void {
    let set = this.#members.get(topic);
    if (set === undefined) this.#members.set(topic, (set = new Set()));
    set.add(member);
  }

  remove(topic: string, member: T): void {
    const set = this.#members.get(topic);
    if (set === undefined) return;
    set.delete(member);
    if (set.size === 0) this.#members.delete(topic);
  }

  get(topic: string): Set<T> | undefined {
    return this.#members.get(topic);
  }
}

/** The `topic` query parameter of a request URL, if any. */
export function topicParam(url: string | undefined): { path: string; topic: string | null } {
  const parsed = new URL(url ?? '/', 'http://bench.invalid');
  return { path: parsed.pathname, topic: parsed.searchParams.get('topic') };
}

/** SSE response headers, as Herald sends them. */
export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache',
  Connection: 'keep-alive',
} as const;

/** Creates the HTTP server, listens, and exits on SIGTERM/SIGINT. */
export function listen(flags: ServerFlags, handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const server = createServer(handler);
  server.listen(flags.port, flags.host);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
  return server;
}
