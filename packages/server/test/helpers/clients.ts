import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { waitUntil } from './hub.js';

/** A decoded hub message: an event envelope or a control message. */
export type Message = Record<string, any>;

/** True for events (they carry id and topic), false for control messages. */
export const isEvent = (m: Message): boolean => typeof m['id'] === 'string' && typeof m['topic'] === 'string';

/** Collects decoded messages and lets a test wait for them. */
export class Inbox {
  readonly messages: Message[] = [];

  push(message: Message): void {
    this.messages.push(message);
  }

  get events(): Message[] {
    return this.messages.filter(isEvent);
  }

  control(type: string): Message[] {
    return this.messages.filter((m) => !isEvent(m) && m['type'] === type);
  }

  /** Waits until `count` events have arrived. */
  async waitForEvents(count: number, timeoutMs = 5000): Promise<Message[]> {
    await waitUntil(() => this.events.length >= count, `${count} events (have ${this.events.length})`, timeoutMs);
    return this.events;
  }

  /** Waits for a control message of a type and returns the first one. */
  async waitForControl(type: string, timeoutMs = 5000): Promise<Message> {
    await waitUntil(() => this.control(type).length > 0, `a ${type} message`, timeoutMs);
    return this.control(type)[0]!;
  }
}

/** An SSE subscriber using the `eventsource` package, as a browser's EventSource would behave. */
export interface SseSubscriber {
  source: EventSource;
  inbox: Inbox;
  close(): void;
}

/** Opens an EventSource on /events for the topics and resolves once `connected` has arrived. */
export async function openSse(url: string, topics: string[], options: { lastEventId?: string; query?: Record<string, string> } = {}): Promise<SseSubscriber> {
  const params = new URLSearchParams();
  for (const topic of topics) params.append('topic', topic);
  if (options.lastEventId !== undefined) params.set('lastEventId', options.lastEventId);
  for (const [key, value] of Object.entries(options.query ?? {})) params.set(key, value);
  const inbox = new Inbox();
  const source = new EventSource(`${url}/events?${params}`);
  source.onmessage = (message) => inbox.push(JSON.parse(message.data) as Message);
  await inbox.waitForControl('connected');
  return { source, inbox, close: () => source.close() };
}

/** A WebSocket subscriber with request/response helpers. */
export class WsSubscriber {
  readonly inbox = new Inbox();
  readonly socket: WebSocket;
  #ref = 0;
  closeCode: number | undefined;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data) => this.inbox.push(JSON.parse(String(data)) as Message));
    socket.on('close', (code) => {
      this.closeCode = code;
    });
  }

  /** Connects to /ws (with optional query) and resolves once `connected` has arrived. */
  static async open(url: string, query = ''): Promise<WsSubscriber> {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws${query}`);
    const subscriber = new WsSubscriber(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    await subscriber.inbox.waitForControl('connected');
    return subscriber;
  }

  /** Sends a request with a fresh ref and resolves with the reply carrying that ref. */
  async request(message: Message, timeoutMs = 5000): Promise<Message> {
    const ref = ++this.#ref;
    this.socket.send(JSON.stringify({ ...message, ref }));
    let reply: Message | undefined;
    await waitUntil(() => (reply = this.inbox.messages.find((m) => m['ref'] === ref)) !== undefined, `reply to ref ${ref}`, timeoutMs);
    return reply!;
  }

  /** Resolves when the socket has closed, with the close code. */
  async closed(timeoutMs = 5000): Promise<number> {
    await waitUntil(() => this.closeCode !== undefined, 'the WebSocket to close', timeoutMs);
    return this.closeCode!;
  }

  close(): void {
    this.socket.close();
  }
}

/** A raw HTTP GET that keeps every body byte, for exact-bytes and slow-reader tests. */
export interface RawStream {
  response: IncomingMessage;
  chunks: Buffer[];
  text(): string;
  ended: boolean;
  destroy(): void;
}

/** Opens a GET and resolves once headers arrive; the body is collected as it comes. */
export function rawGet(url: string, headers: Record<string, string> = {}): Promise<RawStream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (response) => {
      const stream: RawStream = {
        response,
        chunks: [],
        text: () => Buffer.concat(stream.chunks).toString('utf8'),
        ended: false,
        destroy: () => req.destroy(),
      };
      response.on('data', (chunk: Buffer) => stream.chunks.push(chunk));
      response.on('end', () => (stream.ended = true));
      response.on('close', () => (stream.ended = true));
      response.on('error', () => undefined);
      resolve(stream);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Splits a raw SSE body into its frames' fields. */
export function parseSseFrames(text: string): Array<Record<string, string>> {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const fields: Record<string, string> = {};
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        fields[line.slice(0, colon)] = line.slice(colon + 1).replace(/^ /, '');
      }
      return fields;
    });
}

/** The ids of `events`, in order. */
export const ids = (events: readonly Message[]): string[] => events.map((e) => e['id'] as string);

/** Waits until the subscriber has an event with `id`. */
export async function waitForId(inbox: { events: Message[] }, id: string, timeoutMs = 10000): Promise<void> {
  await waitUntil(() => inbox.events.some((e) => e['id'] === id), `event ${id} (have ${inbox.events.length})`, timeoutMs);
}

/** Fails when an id occurs twice in `list`. */
export function assertNoDuplicates(list: readonly string[], what: string): void {
  const seen = new Set<string>();
  const dupes = list.filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
  assert.deepEqual(dupes, [], `${what}: no event twice`);
}

/** Opens an SSE subscriber that afterEach closes whatever happens (an open EventSource would keep reconnecting). */
const subscribers = new Set<SseSubscriber>();
export async function sseOpen(...args: Parameters<typeof openSse>): Promise<SseSubscriber> {
  const subscriber = await openSse(...args);
  subscribers.add(subscriber);
  return subscriber;
}
export function closeSubscribers(): void {
  for (const subscriber of subscribers) subscriber.close();
  subscribers.clear();
}
