// Which local services an example needs, checked before anything starts, so a missing
// Redis or Postgres is one clear sentence instead of a stack trace from deep inside a client.
import { connect } from 'node:net';

/** A service an example depends on, by URL (redis://… or postgres://…). */
export interface ServiceNeed {
  /** What it is called in the message, e.g. "Redis". */
  name: string;
  url: string;
  /** How to get it running, shown when it is missing. */
  hint: string;
}

/** Resolves true when a TCP connection to the URL's host and port opens within `timeoutMs`. */
export function reachable(url: string, timeoutMs = 1500): Promise<boolean> {
  const parsed = new URL(url);
  const defaultPort = parsed.protocol.startsWith('redis') ? 6379 : 5432;
  const port = parsed.port === '' ? defaultPort : Number(parsed.port);
  return new Promise((resolve) => {
    const socket = connect({ host: parsed.hostname, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** An error whose message is meant for the person running the example, printed without a stack. */
export class MissingServiceError extends Error {
  override readonly name = 'MissingServiceError';
}

/** Throws a {@link MissingServiceError} naming every service that cannot be reached. */
export async function requireServices(example: string, needs: readonly ServiceNeed[]): Promise<void> {
  const missing: ServiceNeed[] = [];
  for (const need of needs) if (!(await reachable(need.url))) missing.push(need);
  if (missing.length === 0) return;
  const lines = missing.map((need) => `  - ${need.name} is not reachable at ${need.url}: ${need.hint}`);
  throw new MissingServiceError(`the ${example} example needs a service that is not running:\n${lines.join('\n')}`);
}

/** The Redis URL examples use: REDIS_URL, or the local default. */
export const redisUrl = (): string => process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
