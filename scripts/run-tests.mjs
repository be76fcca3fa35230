#!/usr/bin/env node
// Runs every packages/*/test/**/*.test.ts(x) file (and bench/test, chaos/test, examples/*/test) under node:test, with tsx compiling
// TypeScript on the fly. Node 20's --test takes no globs, so this lists the files.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function findTests(dir) {
  const found = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (entry.endsWith('.test.ts') || entry.endsWith('.test.tsx')) found.push(path);
  }
  return found;
}

const filter = process.argv.slice(2);
// bench/test holds the benchmark harness's smoke test (the benchmarks themselves never run here);
// chaos/test holds short versions of the fault experiments (`npm run chaos` runs the full ones);
// examples/<name>/test drives each example app in a browser (see docs/examples.md).
const files = [
  ...readdirSync('packages').map((name) => join('packages', name, 'test')),
  join('bench', 'test'),
  join('chaos', 'test'),
  ...readdirSync('examples').map((name) => join('examples', name, 'test')),
]
  .filter((dir) => {
    try {
      return statSync(dir).isDirectory();
    } catch {
      return false;
    }
  })
  .flatMap(findTests)
  .filter((file) => filter.length === 0 || filter.some((f) => file.includes(f)))
  .sort();

if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  // A test that hangs fails after --test-timeout. --test-force-exit is not used: it
  // can cut a file's report short, and a result that is never reported cannot fail.
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=180000', '--test-reporter=spec', ...files],
  // Last resort against a file that never exits (a handle left open): fail loudly.
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' }, timeout: 9 * 60 * 1000, killSignal: 'SIGKILL' },
);
if (result.error !== undefined || result.signal !== null) {
  console.error(`run-tests: the test run did not finish (${result.error?.message ?? result.signal}); failing`);
  process.exit(1);
}
process.exit(result.status ?? 1);
