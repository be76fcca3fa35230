import WebSocket from 'ws';
import { Inbox, isEvent, type Message } from './clients.js';

/**
 * A WebSocket client that reconnects whenever its connection ends, to the next of
 * `urls()` (what a load balancer does when a node goes), and resumes from the last
 * event id it saw, alternating between the two ways of asking: the `since` query
 * parameter and a `subscribe` message with `since`.
 */
export class ResumingWsClient {
  readonly inbox = new Inbox();
  lastId: string | undefined;
  connects = 0;
  #stopped = false;
  #socket: WebSocket | undefined;

  constructor(
    private readonly urls: () => string[],
    private readonly topic: string,
  ) {}

  start(): void {
    const attempt = this.connects++;
    const urls = this.urls();
    const base = `${urls[attempt % urls.length]!.replace(/^http/, 'ws')}/ws`;
    const viaQuery = attempt % 2 === 0;
    const since = this.lastId === undefined ? '' : `&since=${encodeURIComponent(this.lastId)}`;
    const socket = new WebSocket(viaQuery ? `${base}?topic=${this.topic}${since}` : base);
    this.#socket = socket;
    socket.on('open', () => {
      if (viaQuery) return;
      socket.send(JSON.stringify({ type: 'subscribe', topics: [this.topic], ...(this.lastId === undefined ? {} : { since: this.lastId }) }));
    });
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as Message;
      this.inbox.push(message);
      if (isEvent(message)) this.lastId = message['id'];
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!this.#stopped) setTimeout(() => this.start(), 10);
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#socket?.terminate();
  }
}
