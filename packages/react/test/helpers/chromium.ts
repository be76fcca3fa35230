// Where the browser tests find Chromium, and whether it can run here. Debian's
// chromium, never a downloaded browser.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Why Chromium cannot be used here, or undefined when it can. It must be there and
 * start (`--version`): an empty or non-executable file in its place counts as missing,
 * so the suites skip loudly instead of failing at launch.
 */
export function chromiumMissing(): string | undefined {
  if (!existsSync(CHROMIUM)) return `no browser at ${CHROMIUM}`;
  const probe = spawnSync(CHROMIUM, ['--version'], { timeout: 30_000, stdio: 'ignore' });
  if (probe.error !== undefined || probe.status !== 0) return `${CHROMIUM} does not start (${probe.error?.message ?? `exit code ${probe.status}`})`;
  return undefined;
}
