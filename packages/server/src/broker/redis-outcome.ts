import { HeraldError } from '@herald/protocol';

/** Pause between attempts while Redis is away or stalled, in milliseconds. */
export const RETRY_MS = 100;

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects with "no answer within …" when `promise` has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Whether a failed command may still have run, or may run later: anything but a
 * reply error (Redis refused it) or a command that never left this process
 * (ioredis refuses to queue while disconnected).
 */
function mayHaveRun(error: unknown): boolean {
  if (!(error instanceof Error)) return true;
  if (error.name === 'ReplyError') return false;
  return !error.message.startsWith("Stream isn't writeable");
}

/** How an append is settled: see {@link settleAppend}. */
export interface AppendAttempt {
  /** Runs the append script; its reply, or `['late']` when Redis refused it past its deadline. */
  run(): Promise<Array<string | number>>;
  /** Runs the outcome script for the same token and deadline (redis-scripts.ts OUTCOME_SCRIPT). */
  outcome(): Promise<[string, string?]>;
  /** How long to keep asking for the outcome after the reply was lost, in milliseconds. */
  resolveWithinMs: number;
  /** True once the broker is closing: stop asking. */
  closed(): boolean;
}

/**
 * Waits for an append's reply and turns every ending into the rule "503 means
 * nothing was published; an acknowledged event is never lost":
 *
 * - a reply: the events are in the log (or, `late`, Redis refused the script
 *   because it ran past its deadline: `broker_unavailable`);
 * - a refusal before anything ran (reply error, never sent): `broker_unavailable`;
 * - a lost reply (timeout, connection dropped): the append may have run or may
 *   still run, so the outcome script is asked, again and again for up to
 *   `resolveWithinMs`. Its token proves the append ran (the stored reply is used);
 *   Redis's clock past the deadline proves it never will (`broker_unavailable`).
 *   When neither is proven in time: `outcome_unknown`.
 */
export async function settleAppend(attempt: AppendAttempt): Promise<Array<string | number>> {
  let reply: Array<string | number>;
  try {
    reply = await attempt.run();
  } catch (error) {
    if (!mayHaveRun(error)) throw new HeraldError('broker_unavailable', `the event log (Redis) refused the publish: ${(error as Error).message}`);
    reply = await resolveOutcome(attempt, error as Error);
  }
  if (reply[0] === 'late') throw new HeraldError('broker_unavailable', 'the event log (Redis) did not run the publish in time; nothing was published');
  return reply;
}

async function resolveOutcome(attempt: AppendAttempt, cause: Error): Promise<Array<string | number>> {
  const giveUpAt = Date.now() + attempt.resolveWithinMs;
  for (let left = attempt.resolveWithinMs; left > 0 && !attempt.closed(); left = giveUpAt - Date.now()) {
    try {
      const [outcome, stored] = await within(attempt.outcome(), left);
      if (outcome === 'done') return stored!.split(' ');
      if (outcome === 'none') return ['late'];
    } catch {
      // Still unreachable or still stalled: ask again while time is left.
    }
    await sleep(Math.min(RETRY_MS, Math.max(0, giveUpAt - Date.now())));
  }
  throw new HeraldError(
    'outcome_unknown',
    `the event log (Redis) stopped answering during the publish (${cause.message}); the events may or may not be in the log`,
  );
}
