import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { HERALD_BIN } from '../../../packages/server/test/helpers/serve.js';

const PROBE = pathToFileURL(fileURLToPath(new URL('./memory-probe.mjs', import.meta.url))).href;

/** One memory sample of the hub process. */
export interface MemorySample {
  at: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** A `herald serve` process with the memory probe preloaded. */
export interface ProbedHub {
  child: ChildProcess;
  url: string;
  /** Whether it exited without being asked. */
  crashed(): boolean;
  samples(): MemorySample[];
  stop(): Promise<void>;
}

/**
 * Starts `herald serve` under `node --expose-gc --import memory-probe.mjs`, which
 * appends a memory sample (after a full GC) to `memoryFile` every `intervalMs`.
 */
export async function startProbedHub(args: string[], memoryFile: string, intervalMs: number): Promise<ProbedHub> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', PROBE, HERALD_BIN, 'serve', '--port', '0', '--no-demo', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CHAOS_MEMORY_FILE: memoryFile, CHAOS_MEMORY_INTERVAL: String(intervalMs) },
  });
  let stopping = false;
  let exited = false;
  const gone = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  let head = '';
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    if (errors.length < 10_000) errors += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      head += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+?)\/"/.exec(head);
      if (match) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', () => reject(new Error(`herald serve exited early: ${head}${errors}`)));
  });
  return {
    child,
    url,
    crashed: () => exited && !stopping,
    samples: () => {
      try {
        return readFileSync(memoryFile, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as MemorySample);
      } catch {
        return [];
      }
    },
    stop: async () => {
      stopping = true;
      if (!exited) child.kill('SIGTERM');
      await gone;
    },
  };
}
