/**
 * The contract between the client and a transport. A transport is one attempt at
 * one connection: it opens when created and ends once. The client owns every
 * decision about retrying; a transport never reconnects by itself.
 */

/** What a transport needs to open a connection. */
export interface TransportRequest {
  /** The hub's base URL (http or https, with the basePath), without a trailing slash. */
  url: string;
  /** Bearer token, sent as the `token` query parameter (browsers cannot set headers on EventSource or WebSocket). */
  token: string | undefined;
  /** SSE: the topic patterns of the stream. WebSocket: unused (topics are sent as `subscribe` messages). */
  topics: readonly string[];
  /** SSE: resume after this event id. WebSocket: resume the hub's server-chosen topics after it (`?since=`). */
  since: string | undefined;
  /** SSE: the stream's filter, for all its topics. WebSocket: unused (filters go in `subscribe` messages). */
  filter?: string | undefined;
}

/** How a transport ended. */
export interface TransportEnd {
  /** True when the connection opened (WebSocket `open`, SSE `200`). */
  opened: boolean;
  /** HTTP status of a refused SSE request. */
  status?: number;
  /** Error code from the JSON body of a refused SSE request. */
  code?: string;
  /** WebSocket close code. */
  closeCode?: number;
  /** Human-readable cause, for logs. */
  reason: string;
}

/** Callbacks from a transport. `onEnd` is called at most once, never after `close()`. */
export interface TransportHandlers {
  /** One decoded JSON object from the hub. */
  onMessage(message: Record<string, unknown>): void;
  onEnd(end: TransportEnd): void;
}

/** An open (or opening) connection. */
export interface Transport {
  /** Sends one client message (WebSocket only; SSE ignores it). */
  send(message: object): void;
  /** Ends the connection; no callback follows. */
  close(): void;
}

/** Opens a connection. */
export type TransportFactory = (request: TransportRequest, handlers: TransportHandlers) => Transport;

/** Parses one JSON text from the hub; anything but an object is dropped as noise (decodeHubMessage then reads it). */
export function parseHubJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Builds `<base><path>?...` with the token and repeated parameters. */
export function endpointUrl(base: string, path: string, params: ReadonlyArray<readonly [string, string]>): URL {
  const url = new URL(base + path);
  for (const [name, value] of params) url.searchParams.append(name, value);
  return url;
}
