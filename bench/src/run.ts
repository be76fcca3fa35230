/**
 * `npm run bench` (quick: every scenario in under 5 minutes on 2 cores) and
 * `npm run bench -- --full` (the numbers docs/benchmarks.md reports).
 *
 * Flags: --full, --only=1,2,… (scenario numbers), --servers=herald,socketio,…,
 * --out=DIR (default bench/results), --no-pin (do not pin to cores 0 and 1).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runBench } from './bench.js';
import { CONFIGS } from './config.js';
import { stopAllSync } from './harness/processes.js';
import { SERVER_NAMES, type ServerName } from './harness/targets.js';

function flag(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv
    .slice(2)
    .find((a) => a.startsWith(prefix))
    ?.slice(prefix.length);
}

const args = process.argv.slice(2);
const mode = args.includes('--full') ? 'full' : 'quick';
const servers = (flag('servers')?.split(',') ?? SERVER_NAMES) as ServerName[];
for (const server of servers) {
  if (!SERVER_NAMES.includes(server)) {
    process.stderr.write(`bench: unknown server "${server}"; known: ${SERVER_NAMES.join(', ')}\n`);
    process.exit(2);
  }
}
const only = flag('only')?.split(',').map(Number);
const pin = !args.includes('--no-pin');
const outDir = flag('out') ?? fileURLToPath(new URL('../results/', import.meta.url));

// Never leave a server or agent behind, however the run ends.
process.on('exit', stopAllSync);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stopAllSync();
    process.exit(130);
  });
}

// The harness itself runs on the generator core, away from the server under test.
if (pin) spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });

await runBench(
  { ...CONFIGS[mode], servers },
  { ...(only === undefined ? {} : { only }), outDir, pin, command: `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}` },
);
