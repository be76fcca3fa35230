import { parseHubJson, endpointUrl, type TransportFactory } from './transport.js';

/** The part of the standard `WebSocket` class the client uses (browsers, Node 22+, or the `ws` package). */
export interface WebSocketLike {
  readonly readyState: number;
  // `any` for the event: the DOM's handlers take `Event`, which `unknown` would make the browser's WebSocket fail to match.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  onopen: ((event: any) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  onerror: ((event: any) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A `WebSocket` constructor. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

const OPEN = 1;

/** A transport over `GET <url>/ws`. Topics are subscribed with messages once `connected` arrives. */
export function webSocketTransport(WebSocketImpl: WebSocketConstructor): TransportFactory {
  return (request, handlers) => {
    const params: Array<[string, string]> = request.token === undefined ? [] : [['token', request.token]];
    // Resumes the topics the hub subscribes at connect (server-chosen ones); the hub ignores it when there are none.
    if (request.since !== undefined) params.push(['since', request.since]);
    const url = endpointUrl(request.url, '/ws', params);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    let opened = false;
    let done = false;
    const socket = new WebSocketImpl(url.href);
    socket.onopen = () => {
      opened = true;
    };
    socket.onmessage = (event) => {
      if (done || typeof event.data !== 'string') return;
      const message = parseHubJson(event.data);
      if (message !== undefined) handlers.onMessage(message);
    };
    // An error is always followed by close, which carries the code.
    socket.onerror = () => undefined;
    socket.onclose = (event) => {
      if (done) return;
      done = true;
      handlers.onEnd({ opened, closeCode: event.code, reason: event.reason || `closed with ${event.code}` });
    };
    return {
      send(message) {
        if (!done && socket.readyState === OPEN) socket.send(JSON.stringify(message));
      },
      close() {
        done = true;
        try {
          socket.close(1000);
        } catch {
          // Closing while CONNECTING throws in some implementations; the socket is abandoned either way.
        }
      },
    };
  };
}
