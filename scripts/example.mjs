#!/usr/bin/env node
// `npm run example -- <name>`: builds the packages, then starts examples/<name> (its app
// server, its hub and its page). With no name, lists the examples.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const examples = readdirSync('examples').filter((name) => existsSync(join('examples', name, 'server', 'main.ts')));
const name = process.argv[2];
if (name === undefined || !examples.includes(name)) {
  if (name !== undefined) console.error(`no example named "${name}"`);
  console.error(`usage: npm run example -- <name>\nexamples: ${examples.join(', ')} (see docs/examples.md)`);
  process.exit(name === undefined ? 0 : 1);
}

const build = spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
// The example runs in the foreground; Ctrl-C reaches it directly and it stops its hub.
const run = spawnSync(process.execPath, ['--import', 'tsx', join('examples', name, 'server', 'main.ts')], { stdio: 'inherit' });
process.exit(run.status ?? 1);
