import type { ResetReason } from '@herald/protocol';

/** One entry of the stream as XREAD returns it. */
export type StreamEntry = [id: string, fields: string[]];

/** The log as the STATE script saw it (see redis-scripts.ts). */
export interface LogState {
  epoch: string;
  /** Log sequence number of the newest entry ever appended in this epoch. */
  seq: number;
  /** `n` of the oldest retained entry; undefined when the stream is empty or the entry predates numbering. */
  first: number | undefined;
  /** Id of the newest entry; undefined when the stream is empty. */
  lastId: string | undefined;
  /** `n` of the newest entry, when it has one. */
  last: number | undefined;
  /** Id of the newest entry retention removed, if any. */
  trimmed?: string | undefined;
}

/** A field of a stream entry, or undefined. */
function fieldOf(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** A numeric reply field; undefined for '' (none) or undefined. */
export function numberOrUndefined(value: string | undefined): number | undefined {
  return value === undefined || value === '' ? undefined : Number(value);
}

/**
 * Where one node's tail is in the Redis log, and whether what it reads next
 * continues it exactly. Every entry carries its epoch (`e`) and log sequence
 * number (`n`, one more than the entry before it), so a gap is never a guess:
 * another epoch means the history was lost, a sequence number past the next
 * one means retention removed entries this node never read.
 */
export class TailPosition {
  /** Stream id of the last entry read (`0-0`: none); the next XREAD starts after it. */
  lastId = '0-0';
  /** Epoch of the last entry read, or of the log when it was read. */
  epoch = '';
  /**
   * Sequence number of the last entry read (for a log emptied by retention, of
   * the last one appended). Undefined after entries from before numbering:
   * continuity cannot be checked until a numbered entry is read.
   */
  lastSeq: number | undefined = 0;

  /** Starts at the newest entry of the log, as the broker starts. */
  startAt(state: LogState): void {
    this.epoch = state.epoch;
    // A stream emptied by retention starts after its last removed entry: `0-0` would
    // name a position before trimmed entries (a resume from it reads as expired),
    // though nothing after this moment can be missed.
    this.lastId = state.lastId ?? state.trimmed ?? '0-0';
    this.lastSeq = state.lastId === undefined ? state.seq : state.last;
  }

  /** The gap before `entry`, the first entry of a batch read after `lastId`, if any. */
  gapBefore([, fields]: StreamEntry): ResetReason | undefined {
    if (fieldOf(fields, 'e') !== this.epoch) return 'unknown_id';
    const seq = numberOrUndefined(fieldOf(fields, 'n'));
    if (seq === undefined || this.lastSeq === undefined || seq === this.lastSeq + 1) return undefined;
    return seq > this.lastSeq ? 'expired' : 'unknown_id';
  }

  /** Moves past a batch whose newest entry is `last`. */
  advance([id, fields]: StreamEntry): void {
    this.lastId = id;
    this.epoch = fieldOf(fields, 'e') ?? this.epoch;
    this.lastSeq = numberOrUndefined(fieldOf(fields, 'n'));
  }

  /**
   * Compares the log's state, read after an outage, with this position. Returns
   * the gap (and moves past it, so the tail does not report it again) or
   * undefined when nothing was missed.
   */
  recover(state: LogState): ResetReason | undefined {
    if (state.epoch !== this.epoch) {
      // History lost (a new epoch): the old position means nothing in the new stream.
      this.epoch = state.epoch;
      this.lastId = '0-0';
      this.lastSeq = state.lastId === undefined ? state.seq : state.first === undefined ? undefined : state.first - 1;
      return 'unknown_id';
    }
    if (this.lastSeq === undefined) return undefined;
    // The oldest entry this node can still read, or the next one to be appended.
    const next = state.lastId === undefined ? state.seq + 1 : state.first;
    if (next === undefined || next <= this.lastSeq + 1) return undefined;
    this.lastSeq = next - 1;
    return 'expired';
  }
}
