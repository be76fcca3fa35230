/**
 * Server-Sent Events framing. Pure string functions: the server turns them into
 * bytes once per event and writes the same bytes to every subscriber.
 *
 * Every payload here is JSON produced by JSON.stringify, which never emits a raw
 * CR or LF, so each frame has exactly one `data:` line. Ids are validated to
 * exclude CR, LF and NUL before they get here, so an `id:` line cannot inject fields.
 */

/** An event frame: `id:` line, one `data:` line, blank line. */
export function sseEventFrame(id: string, json: string): string {
  return `id: ${id}\ndata: ${json}\n\n`;
}

/** A control-message frame: no `id:` line, so it never moves the client's Last-Event-ID. */
export function sseControlFrame(json: string): string {
  return `data: ${json}\n\n`;
}

/**
 * A control-message frame that sets the client's Last-Event-ID to `position` (a
 * resume position, see `ConnectedMessage.lastEventId`): how a plain EventSource,
 * which remembers only `id:` fields, gets a position before its first event.
 * Without a position it is {@link sseControlFrame}.
 */
export function ssePositionFrame(position: string | undefined, json: string): string {
  return position === undefined ? sseControlFrame(json) : `id: ${position}\ndata: ${json}\n\n`;
}

/** A `retry:` field telling EventSource how long to wait before reconnecting, in milliseconds. */
export function sseRetryField(ms: number): string {
  return `retry: ${Math.max(0, Math.floor(ms))}\n`;
}

/**
 * A comment line; EventSource ignores it. The hub sends none (its heartbeats are
 * `heartbeat` messages, which clients can see); deliberate API for embedders that
 * write their own SSE output, for example a keep-alive through a proxy.
 */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n\0]/g, ' ')}\n\n`;
}
