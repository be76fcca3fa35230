/**
 * A push parser for `text/event-stream` (the WHATWG "event stream interpretation"),
 * for clients that read SSE with `fetch` instead of `EventSource` so they can see
 * HTTP statuses and control reconnects themselves. Pure: no I/O, no timers. Feed it
 * decoded text in chunks of any size; multi-byte characters must already be joined
 * (use `TextDecoder` with `{ stream: true }`).
 */

/** One dispatched SSE message. */
export interface SseMessage {
  /** The `data:` lines joined with `\n`. */
  data: string;
  /** The stream's last event id after this message (the spec keeps it across messages). */
  lastEventId: string;
  /** The `event:` field; `message` when absent. */
  event: string;
}

/** Callbacks and limits of {@link createSseParser}. */
export interface SseParserOptions {
  /** Called for every dispatched message. */
  onMessage(message: SseMessage): void;
  /** Called for every valid `retry:` field, in milliseconds. Default: ignored. */
  onRetry?(ms: number): void;
  /**
   * Longest line kept, in characters; a longer line is discarded and reported to
   * `onError`, so a broken peer cannot grow memory without bound. Default 16 MiB.
   */
  maxLineLength?: number;
  /** Called when a line is discarded for being too long. Default: ignored. */
  onError?(error: Error): void;
}

/** A stateful parser; `feed` chunks in order, `reset` before reading a new stream. */
export interface SseParser {
  feed(chunk: string): void;
  reset(): void;
}

const DEFAULT_MAX_LINE = 16 * 1024 * 1024;

/** Creates an SSE parser. */
export function createSseParser(options: SseParserOptions): SseParser {
  const maxLine = options.maxLineLength ?? DEFAULT_MAX_LINE;
  // Fragments of the current line: joining per chunk would be quadratic for a long line.
  let fragments: string[] = [];
  let fragmentLength = 0;
  let overflow = false;
  let first = true;
  let afterCr = false;
  let data: string[] = [];
  let event = '';
  let lastEventId = '';

  function line(text: string): void {
    // [spec] An empty line dispatches the event; a line starting with ':' is a comment.
    if (text === '') return dispatch();
    if (text.charCodeAt(0) === 58) return;
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    // [spec] An id containing NUL is ignored.
    else if (field === 'id') lastEventId = value.includes('\0') ? lastEventId : value;
    else if (field === 'retry' && /^\d+$/.test(value)) options.onRetry?.(Number(value));
  }

  function dispatch(): void {
    // [spec] No data lines: reset the buffers without dispatching.
    if (data.length > 0) options.onMessage({ data: data.join('\n'), lastEventId, event: event || 'message' });
    data = [];
    event = '';
  }

  function endLine(tail: string): void {
    const text = fragments.length === 0 ? tail : fragments.join('') + tail;
    fragments = [];
    fragmentLength = 0;
    if (overflow) {
      overflow = false;
      return;
    }
    line(text);
  }

  function keep(part: string): void {
    if (overflow || part === '') return;
    fragmentLength += part.length;
    if (fragmentLength > maxLine) {
      overflow = true;
      fragments = [];
      options.onError?.(new Error(`SSE line longer than ${maxLine} characters discarded`));
      return;
    }
    fragments.push(part);
  }

  return {
    feed(chunk: string): void {
      // An empty chunk (an empty network read, or bytes of a character still being
      // joined by TextDecoder) must not clear `afterCr`: the LF of a CRLF split
      // around it would otherwise end a second, empty line and dispatch early.
      if (chunk.length === 0) return;
      let start = 0;
      // [spec] One leading BOM is skipped.
      if (first) {
        first = false;
        if (chunk.charCodeAt(0) === 0xfeff) start = 1;
      }
      // A CR at the end of the previous chunk already ended a line; an LF right after it is the same terminator.
      if (afterCr && chunk.charCodeAt(start) === 10) start++;
      afterCr = false;
      for (let i = start; i < chunk.length; i++) {
        const code = chunk.charCodeAt(i);
        if (code !== 10 && code !== 13) continue;
        if (fragmentLength + (i - start) > maxLine) keep(chunk.slice(start, i));
        endLine(overflow ? '' : chunk.slice(start, i));
        if (code === 13) {
          if (i + 1 === chunk.length) afterCr = true;
          else if (chunk.charCodeAt(i + 1) === 10) i++;
        }
        start = i + 1;
      }
      keep(chunk.slice(start));
    },
    reset(): void {
      fragments = [];
      fragmentLength = 0;
      overflow = false;
      first = true;
      afterCr = false;
      data = [];
      event = '';
      lastEventId = '';
    },
  };
}
