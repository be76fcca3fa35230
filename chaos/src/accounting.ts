import type { Ledger, LedgerEntry } from './ledger.js';
import type { ResetSeen, SubscriberLog } from './subscriber-log.js';

/** The verdict on one subscriber. Every count is of distinct harness keys except `duplicated`. */
export interface SubscriberTally {
  name: string;
  /** Acknowledged events on its topics first sent after its subscription was confirmed. */
  expected: number;
  /** Of those, how many arrived (at least once). */
  received: number;
  /** Expected but never arrived, with no `reset` that could cover them: the promise is broken. */
  missingUnexplained: number;
  /** Expected but never arrived, covered by a `reset` (allowed: the client was told to reload). */
  missingExplained: number;
  /** Second (or later) copies with no `reset` between the copies. */
  duplicated: number;
  /** Second copies that arrived after a `reset` that followed the first copy (the client had reloaded in between). */
  duplicatedAfterReset: number;
  /** Events that arrived after one that the log provably holds later. */
  reordered: number;
  resets: number;
  /** Events delivered whose publish was refused with a code that promises nothing was published. */
  phantoms: number;
  /** Harness events delivered that were never acknowledged (allowed: an attempt whose answer was lost). */
  unacked: number;
  connections: number;
  /** `paused` and `resumed` notices the subscriber saw (the log was away, then back). */
  paused: number;
  resumed: number;
  /**
   * When the unexplained misses were first sent, and when the subscriber last
   * received anything, in ms since `JudgeOptions.origin`: tells "a gap" from "stopped receiving".
   */
  timeline: { missingFrom: number | null; missingTo: number | null; lastReceived: number | null; resetsAt: number[] };
  /** A few keys of each failure kind, so a report can be followed up. */
  samples: { missing: string[]; duplicated: string[]; reordered: string[]; phantoms: string[] };
  notes: string[];
}

/** Inputs of {@link judge} beyond the subscriber's log and the ledger. */
export interface JudgeOptions {
  /**
   * The log's own order, key to position, when the harness can read it (the Redis
   * stream). Events the map lacks are checked by the time rule only.
   */
  logOrder?: ReadonlyMap<string, number> | undefined;
  /** The time (harness clock) the timeline is measured from. Default 0. */
  origin?: number | undefined;
}

const SAMPLE = 5;

function sample(list: string[], key: string): void {
  if (list.length < SAMPLE) list.push(key);
}

/**
 * Whether `reset` covers a missed event. A reset at time R, sent for a resume from L
 * (the last event received before it), tells the client that events after L and
 * before the hub's head at R may be gone. So it covers `entry` when the entry could
 * be in the log after L (it was not acknowledged before L was first sent) and before
 * R (it was first sent before R).
 */
function covers(reset: ResetSeen, entry: LedgerEntry, log: SubscriberLog, ledger: Ledger): boolean {
  if (reset.topic !== log.pattern) return false;
  if (entry.sentAt > reset.at) return false;
  if (reset.receivedBefore === 0) return true;
  const last = log.received[reset.receivedBefore - 1]!;
  const lastEntry = ledger.get(last.key);
  if (lastEntry === undefined) return true;
  return entry.ackedAt === undefined || entry.ackedAt >= lastEntry.sentAt;
}

/**
 * Judges one subscriber against the ledger.
 *
 * Order has two rules. The time rule needs nothing from the hub: an event first
 * sent after another was acknowledged is later in the log, so it must not arrive
 * before it. The log rule, when `logOrder` is given, compares the log positions
 * of every pair the log still holds.
 */
export function judge(log: SubscriberLog, ledger: Ledger, options: JudgeOptions = {}): SubscriberTally {
  const tally: SubscriberTally = {
    name: log.name,
    expected: 0,
    received: 0,
    missingUnexplained: 0,
    missingExplained: 0,
    duplicated: 0,
    duplicatedAfterReset: 0,
    reordered: 0,
    resets: log.resets.length,
    phantoms: 0,
    unacked: 0,
    connections: log.connections,
    paused: log.paused,
    resumed: log.resumed,
    timeline: { missingFrom: null, missingTo: null, lastReceived: null, resetsAt: [] },
    samples: { missing: [], duplicated: [], reordered: [], phantoms: [] },
    notes: [...log.notes],
  };
  const firstCopy = new Map<string, number>();
  let latestSent = -Infinity;
  let latestPosition = -Infinity;
  log.received.forEach((got, index) => {
    const entry = ledger.get(got.key);
    const first = firstCopy.get(got.key);
    if (first !== undefined) {
      const resetBetween = log.resets.some((r) => r.receivedBefore > first && r.receivedBefore <= index);
      if (resetBetween) tally.duplicatedAfterReset += 1;
      else {
        tally.duplicated += 1;
        sample(tally.samples.duplicated, got.key);
      }
      return;
    }
    firstCopy.set(got.key, index);
    if (entry === undefined) return;
    if (entry.ackedAt === undefined) {
      if (entry.refused) {
        tally.phantoms += 1;
        sample(tally.samples.phantoms, got.key);
      } else tally.unacked += 1;
    }
    const position = options.logOrder?.get(got.key);
    const lateByTime = entry.ackedAt !== undefined && latestSent > entry.ackedAt;
    const lateByLog = position !== undefined && position < latestPosition;
    if (lateByTime || lateByLog) {
      tally.reordered += 1;
      sample(tally.samples.reordered, got.key);
    }
    latestSent = Math.max(latestSent, entry.sentAt);
    if (position !== undefined) latestPosition = Math.max(latestPosition, position);
  });
  const origin = options.origin ?? 0;
  const since = (t: number): number => Math.round(t - origin);
  const lastGot = log.received[log.received.length - 1];
  tally.timeline.lastReceived = lastGot === undefined ? null : since(lastGot.at);
  tally.timeline.resetsAt = log.resets.map((r) => since(r.at));
  if (log.startedAt === undefined) {
    tally.notes.push('never subscribed: nothing expected');
    return tally;
  }
  for (const entry of ledger.entries()) {
    if (entry.ackedAt === undefined || entry.sentAt < log.startedAt || !log.matches(entry.topic)) continue;
    tally.expected += 1;
    if (firstCopy.has(entry.key)) {
      tally.received += 1;
      continue;
    }
    if (log.resets.some((reset) => covers(reset, entry, log, ledger))) tally.missingExplained += 1;
    else {
      tally.missingUnexplained += 1;
      sample(tally.samples.missing, entry.key);
      tally.timeline.missingFrom = Math.min(tally.timeline.missingFrom ?? Infinity, since(entry.sentAt));
      tally.timeline.missingTo = Math.max(tally.timeline.missingTo ?? -Infinity, since(entry.sentAt));
    }
  }
  return tally;
}

/** True when a subscriber still waits for an expected event that no reset covers (used to decide when draining is done). */
export function stillMissing(log: SubscriberLog, ledger: Ledger): boolean {
  const tally = judge(log, ledger);
  return tally.missingUnexplained > 0;
}
