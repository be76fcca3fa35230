// What every example's browser test shares: Debian's Chromium launched the way the
// repository's other browser tests launch it, loud skips for what is missing, the hub's
// log shown once at the end, and the run's Redis keys removed.
import { PassThrough } from 'node:stream';
import { Redis } from 'ioredis';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM, chromiumMissing } from '../../../packages/react/test/helpers/chromium.js';
import { reachable } from '../services.js';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/**
 * Why the example's browser test cannot run here, or false when it can. A missing
 * browser or service is skipped with one loud line, unless HERALD_REQUIRE_BROWSER=1
 * (or HERALD_REQUIRE_REDIS=1 for Redis), as .ci/run sets, which makes it a failure.
 */
export async function exampleSkipReason(example: string, needs: { redis?: string } = {}): Promise<string | false> {
  const missing: { message: string; required: boolean; fix: string }[] = [];
  const noBrowser = chromiumMissing();
  if (noBrowser !== undefined) {
    missing.push({
      message: noBrowser,
      required: process.env['HERALD_REQUIRE_BROWSER'] === '1',
      fix: "install Debian's Chromium with `apt-get install chromium`",
    });
  }
  if (needs.redis !== undefined && !(await reachable(needs.redis))) {
    missing.push({ message: `no Redis at ${needs.redis}`, required: process.env['HERALD_REQUIRE_REDIS'] === '1', fix: 'start redis-server or set REDIS_URL' });
  }
  if (missing.length === 0) return false;
  const required = missing.find((m) => m.required);
  if (required !== undefined) throw new Error(`the ${example} example test cannot run: ${required.message}: ${required.fix}`);
  const message = missing.map((m) => `${m.message} (${m.fix})`).join('; ');
  process.stderr.write(`\n*** SKIPPING the ${example} example's browser test: ${message}. ***\n\n`);
  return message;
}

/** A headless Chromium for one test file. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** Collects what the example's `herald serve` logs, so a test can show it once at the end instead of interleaved. */
export class HubLog {
  readonly output = new PassThrough();
  readonly #lines: string[] = [];

  constructor() {
    this.output.on('data', (chunk: Buffer) => this.#lines.push(chunk.toString()));
  }

  /** Writes what the hub said, if anything, to stderr. */
  show(): void {
    if (this.#lines.length > 0) process.stderr.write(`herald serve said:\n${this.#lines.join('')}`);
  }
}

/** Deletes the keys a test run left under its own Redis prefix. */
export async function dropRedisPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}
