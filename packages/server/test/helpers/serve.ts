import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The `herald` binary of this checkout. */
export const HERALD_BIN = fileURLToPath(new URL('../../bin/herald.js', import.meta.url));

/** A `herald serve` process. */
export interface ServeProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  /** Everything it printed on stdout so far (JSON log lines). */
  output(): string;
}

/** Starts `herald serve --port 0 ...args` and resolves with its URL, read from its log. */
export async function startServe(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ServeProcess> {
  const child = spawn(process.execPath, [HERALD_BIN, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let output = '';
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+?)\/"/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.on('exit', () => reject(new Error(`herald serve exited early: ${output}${errors}`)));
  });
  return { child, url, exited, output: () => output };
}

/** Stops a serve process (SIGTERM unless it is gone already) and waits for it. */
export async function stopServe(process: ServeProcess): Promise<void> {
  if (process.child.exitCode === null && process.child.signalCode === null) process.child.kill('SIGTERM');
  await process.exited;
}
