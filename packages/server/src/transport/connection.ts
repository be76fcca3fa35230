import { randomUUID } from 'node:crypto';
import { ERRORS, judgeEvent, matchTopic, type ControlMessage, type ErrorCode, type ErrorMessage, type EventFilter } from '@herald/protocol';
import type { Principal } from '../auth/access.js';
import type { LogEvent } from '../encoding/log-event.js';
import { removalOf } from '../encoding/removal.js';
import type { FrameSink } from './writer.js';

/** Transport of a subscriber connection. */
export type TransportName = 'sse' | 'ws';

/** What a connection needs from its hub; kept narrow so connections are testable on their own. */
export interface ConnectionContext {
  /** Outbound bytes a connection may have waiting before it is dropped. */
  readonly maxQueueBytes: number;
  /** Called once when a connection is dropped for falling behind. */
  onSlowConsumer(connection: Connection): void;
  /** Called once when a connection has ended for any reason. */
  onClosed(connection: Connection): void;
  /** Counts the first encoding of an event for a transport. */
  countEncoding(transport: TransportName): void;
  /** Counts deliveries written to sockets. */
  countDeliveries(count: number): void;
}

function checkOverflow(connection: Connection): void {
  connection.checkOverflow();
}

// Replays pause on a connection's buffer above this, waiting for 'drain', so that
// resuming from deep history never trips the slow-consumer limit by itself.
const REPLAY_HIGH_WATER_BYTES = 64 * 1024;

// A replay that waits on a client which takes none of its bytes for this many
// heartbeat ticks in a row is given up (slow_consumer). Two, not one, for the same
// reason as the WebSocket liveness rule: one late tick after a stall of this
// process proves nothing.
const STALLED_TICKS_LIMIT = 2;

// A client that stopped reading gets this long to take the goodbye before the socket is destroyed.
const END_GRACE_MS = 1000;

function destroyConnection(connection: Connection): void {
  connection.destroy();
}

/**
 * One subscriber connection. Events reach it through `deliver`, which writes the
 * event's shared pre-encoded frame; while a replay is running, live events wait in
 * `#pending` so the client sees history first and live events after, with no gap
 * and no duplicate. Every byte goes through one `FrameSink` (writer.ts), which
 * the connection also measures and waits on; subclasses supply the sink, their
 * heartbeat rule, their goodbye and their destroy.
 */
export abstract class Connection {
  /** Unique per connection, sent in `connected` and used in logs. */
  readonly id: string = randomUUID();
  abstract readonly transport: TransportName;
  /** Topic patterns this connection holds. */
  readonly topics = new Set<string>();
  /** Filters over event data, for patterns subscribed with one. */
  readonly filters = new Map<string, EventFilter>();
  /** Dispatch stamp of the last event offered, so an event matching several patterns is delivered once. */
  stamp = 0;
  /** True once `connected` has been written; heartbeats wait for it. */
  started = false;
  /** Who holds the connection; replaced when a WebSocket client refreshes its token. */
  principal: Principal;
  /** The client's address, for per-address limits. */
  readonly address: string;
  #closed = false;
  #released = false;
  #overflowCheckQueued = false;
  // Live events at or below this position reached the client before it resumed here.
  #floor: string | undefined;
  #replays = 0;
  #pending: LogEvent[] = [];
  #pendingBytes = 0;
  // Replay progress, judged on heartbeat ticks (see `heartbeat`).
  #replayed = 0;
  #replayWaits = 0;
  #tickReplayed = 0;
  #tickBuffered = 0;
  #stalledTicks = 0;
  #sink: FrameSink;
  protected readonly context: ConnectionContext;

  constructor(context: ConnectionContext, principal: Principal, address: string, sink: FrameSink) {
    this.context = context;
    this.principal = principal;
    this.address = address;
    this.#sink = sink;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Writes `connected` and marks the connection started: heartbeats, resets and
   * `paused` wait for it. `position` is the client's resume point, which SSE puts
   * in the frame's `id:` field. The hub's `openSubscriber` is the one caller, so
   * one place decides when a connection counts as started.
   */
  start(connected: ControlMessage, position: string | undefined): void {
    this.writeConnected(connected, position);
    this.started = true;
  }

  /** Writes the `connected` message that opens the stream; SSE puts its `retry:` field first. */
  protected writeConnected(connected: ControlMessage, position: string | undefined): void {
    this.sendControl(connected, position);
  }

  /**
   * The transport's part of a heartbeat tick: writes the heartbeat (only when
   * `idle`: nothing is waiting in the buffer, so heartbeats never pile up behind a
   * backlog) and checks liveness. `progressed` is true when the client took bytes
   * since the last tick, which proves it is there even if its pong is still queued.
   */
  protected abstract beat(idle: boolean, progressed: boolean): void;
  /**
   * Writes `goodbye` (the error saying why the connection ends) and starts closing
   * the socket; false when the socket can no longer carry it (it is then already
   * gone or destroyed, and no grace period follows).
   */
  protected abstract sayGoodbye(goodbye: ErrorMessage): boolean;
  /** Destroys the socket at once, without a goodbye. */
  abstract destroy(): void;

  /**
   * Bytes written but not yet handed to the kernel, read from the sink every write
   * of the connection goes to (so that the drain wait watches them too).
   */
  bufferedBytes(): number {
    return this.#sink.bufferedBytes();
  }

  /**
   * Sends one control message. With `position`, SSE also sets the client's
   * Last-Event-ID to it (`id:` field); WebSocket has no such field and ignores it.
   */
  sendControl(message: ControlMessage, position?: string): void {
    if (this.#closed) return;
    this.#sink.control(message, position);
  }

  // Resolves once the outbound buffer has drained, or at once when the connection has closed.
  #drained(): Promise<void> {
    return this.#closed ? Promise.resolve() : this.#sink.drained();
  }

  /** Writes the heartbeat frame; for `beat`. */
  protected writeHeartbeat(): void {
    this.#sink.heartbeat();
  }

  /** Writes through `sink` from now on (SSE, once its response hands over the socket). */
  protected writeThrough(sink: FrameSink): void {
    this.#sink = sink;
  }

  /**
   * Whether the event reaches this connection through one of `patterns` (default:
   * all it holds), as published or as a removal. The same test serves live and
   * replayed events, so both are filtered alike.
   */
  accepts(event: LogEvent, patterns: Iterable<string> = this.topics): boolean {
    return this.#form(event, patterns) !== undefined;
  }

  /**
   * What the connection writes for `event`: the event itself when some matching
   * pattern has no filter or a filter that delivers it (`judgeEvent`), else its
   * shared removal form when some filter says the row left the view, else nothing.
   */
  #form(event: LogEvent, patterns: Iterable<string> = this.topics): LogEvent | undefined {
    let removal = false;
    for (const pattern of patterns) {
      if (!matchTopic(pattern, event.topic)) continue;
      const filter = this.filters.get(pattern);
      if (filter === undefined) return event;
      const verdict = judgeEvent(filter, event.envelope.data);
      if (verdict === 'deliver') return event;
      if (verdict === 'remove') removal = true;
    }
    return removal ? removalOf(event) : undefined;
  }

  /** Offers a live event (already known to match). */
  deliver(event: LogEvent): void {
    if (this.#closed) return;
    // Unfiltered connections (the common case) skip this entirely.
    const form = this.filters.size > 0 ? this.#form(event) : event;
    if (form === undefined) return;
    if (this.#floor !== undefined) {
      if (event.position <= this.#floor) return;
      this.#floor = undefined;
    }
    if (this.#replays > 0) {
      // Held as published: `endReplay` offers it again, judged against the filters then.
      this.#pending.push(event);
      this.#pendingBytes += event.size;
      if (this.#pendingBytes + this.bufferedBytes() > this.context.maxQueueBytes) this.dropAsSlow();
      return;
    }
    this.#sink.event(form);
    this.context.countDeliveries(1);
    // Judge the connection after the tick's writes have been offered to the kernel
    // (sockets stay corked until then): a batch larger than the limit is not a slow reader.
    if (!this.#overflowCheckQueued && this.bufferedBytes() > this.context.maxQueueBytes) {
      this.#overflowCheckQueued = true;
      process.nextTick(checkOverflow, this);
    }
  }

  /** @internal Drops the connection if what it could not take this tick is over the limit. */
  checkOverflow(): void {
    this.#overflowCheckQueued = false;
    if (this.bufferedBytes() > this.context.maxQueueBytes) this.dropAsSlow();
  }

  /**
   * Drops live events at or below `position`: they precede the client's resume
   * point. Needed where this node's tail lags behind the id the client resumes from.
   */
  skipLiveThrough(position: string): void {
    if (this.#floor === undefined || position > this.#floor) this.#floor = position;
  }

  /** Live events wait from now until the matching `endReplay`. Replays may nest. */
  beginReplay(): void {
    this.#replays++;
  }

  /**
   * Writes replayed events in order, pausing while the socket is backed up. Events
   * `accept` rejects are skipped; the rest are written in the form live delivery
   * would give them (a removal where a filter says so). Stops early when the connection closes, which
   * includes being dropped by `heartbeat` for making no progress.
   */
  async replay(events: readonly LogEvent[], accept: (event: LogEvent) => boolean): Promise<void> {
    let written = 0;
    for (const event of events) {
      if (this.#closed) break;
      if (!accept(event)) continue;
      this.#sink.event(this.filters.size > 0 ? (this.#form(event) ?? event) : event);
      written++;
      this.#replayed++;
      if (this.bufferedBytes() > REPLAY_HIGH_WATER_BYTES) {
        this.#replayWaits++;
        try {
          await this.#drained();
        } finally {
          this.#replayWaits--;
        }
      }
    }
    this.context.countDeliveries(written);
  }

  /**
   * One tick of the hub's shared heartbeat timer. Before the transport writes its
   * heartbeat, the connection is dropped as a slow consumer when
   *
   * - its waiting bytes (buffer plus live events held back during a replay) are
   *   over `maxQueueBytes`, which bounds whatever else was written, or
   * - a replay has been waiting for the client on `STALLED_TICKS_LIMIT` ticks in a
   *   row without the client taking any byte since the tick before: a client that
   *   stopped reading is cut even when no live event arrives to trip the limit.
   *
   * Progress is a replay write since the last tick, or a buffer smaller than it was
   * just after the last tick when that tick found a backlog. While a replay waits
   * nothing else grows the buffer (heartbeats are skipped), so a drop means the
   * kernel took bytes, which it does only as the client reads.
   */
  heartbeat(): void {
    if (!this.started || this.#closed) return;
    const buffered = this.bufferedBytes();
    const progressed = this.#replayed !== this.#tickReplayed || buffered < this.#tickBuffered;
    this.#stalledTicks = this.#replayWaits > 0 && !progressed ? this.#stalledTicks + 1 : 0;
    if (buffered + this.#pendingBytes > this.context.maxQueueBytes || this.#stalledTicks >= STALLED_TICKS_LIMIT) {
      this.dropAsSlow();
      return;
    }
    this.beat(buffered === 0, progressed);
    // What this tick wrote to an idle connection leaves at the end of the tick
    // (corked), so it proves nothing when it is gone by the next one.
    this.#tickBuffered = buffered === 0 ? 0 : this.bufferedBytes();
    this.#tickReplayed = this.#replayed;
  }

  /** Ends a replay; when none is left, flushes the live events that waited. */
  endReplay(): void {
    this.#replays--;
    if (this.#replays > 0 || this.#closed) return;
    const pending = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    // A failed subscribe rolls its patterns back: what waited for those alone is dropped.
    for (const event of pending) if (this.accepts(event)) this.deliver(event);
  }

  /** Drops the connection for falling behind; the client resumes from history. */
  dropAsSlow(): void {
    if (this.#closed) return;
    this.context.onSlowConsumer(this);
    this.close('slow_consumer');
  }

  /**
   * Ends the connection, telling the client why when possible, and destroys the
   * socket after a grace period if the client has not closed it by then. Idempotent.
   */
  close(code: ErrorCode, retryAfter?: number): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = [];
    const goodbye: ErrorMessage =
      retryAfter === undefined ? { type: 'error', code, message: ERRORS[code].message } : { type: 'error', code, message: ERRORS[code].message, retryAfter };
    if (this.sayGoodbye(goodbye)) setTimeout(destroyConnection, END_GRACE_MS, this).unref();
  }

  /** Called by subclasses when the socket has gone, whoever ended it; reports the end once. */
  protected released(): void {
    if (this.#released) return;
    this.#released = true;
    this.#closed = true;
    this.#pending = [];
    this.context.onClosed(this);
  }
}
