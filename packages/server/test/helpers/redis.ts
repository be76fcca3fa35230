import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis the integration tests use. */
export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/**
 * Whether Redis answers. Without it the Redis suites are skipped with a loud
 * message, unless HERALD_REQUIRE_REDIS=1 (as in CI), which makes them fail instead.
 */
export async function redisSkipReason(): Promise<string | false> {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    return false;
  } catch (error) {
    const message = `no Redis answers at ${REDIS_URL} (${(error as Error).message})`;
    if (process.env['HERALD_REQUIRE_REDIS'] === '1') throw new Error(`${message}, and HERALD_REQUIRE_REDIS=1`, { cause: error });
    process.stderr.write(`\n*** SKIPPING Redis integration tests: ${message}. Set REDIS_URL or start Redis. ***\n\n`);
    return message;
  } finally {
    probe.disconnect();
  }
}

/** A key prefix no other test uses. */
export function testPrefix(): string {
  return `herald-test:${randomUUID()}:`;
}

/** Deletes every key under a prefix. */
export async function dropPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}
