/**
 * The `herald` binary as a child process: `herald serve` as a running node, and any other
 * command run to completion. Every test that spawns the CLI goes through here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The `herald` binary of this checkout. */
export const HERALD_BIN = fileURLToPath(new URL('../../bin/herald.js', import.meta.url));

/**
 * The environment of spawned `herald` processes, without the settings the test process may
 * carry (REDIS_URL, DATABASE_URL, HERALD_*), so every child gets exactly its flags.
 */
export function childEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'REDIS_URL' && key !== 'DATABASE_URL' && !key.startsWith('HERALD_')));
}

/** A `herald serve` process. */
export interface ServeProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  /** Everything it printed on stdout so far (JSON log lines). */
  output(): string;
}

/** How to start the binary, when not as `node HERALD_BIN` from the current directory. */
export interface ServeLaunch {
  /** An executable that is the `herald` binary (such as the workspace's `node_modules/.bin/herald` link). */
  command?: string;
  cwd?: string;
}

/** Starts `herald serve --port 0 ...args` and resolves with its URL, read from its log. */
export async function startServe(args: string[], env: NodeJS.ProcessEnv = process.env, launch: ServeLaunch = {}): Promise<ServeProcess> {
  const serveArgs = ['serve', '--port', '0', ...args];
  const [command, argv] = launch.command === undefined ? [process.execPath, [HERALD_BIN, ...serveArgs]] : [launch.command, serveArgs];
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], env, ...(launch.cwd === undefined ? {} : { cwd: launch.cwd }) });
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
  await stopNode(process, 'SIGTERM');
}

/** What a `herald` command that ran to completion left. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `herald ...args` to completion (by default in childEnv()) and resolves with its exit code and output. */
export function runHerald(args: string[], env: NodeJS.ProcessEnv = childEnv()): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HERALD_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A node for the integration tests: `herald serve` without the demo page, with a 50 ms SSE retry, in childEnv(). */
export function startNode(args: string[]): Promise<ServeProcess> {
  return startServe(['--no-demo', '--sse-retry', '50', ...args], childEnv());
}

/** Stops a node, by SIGKILL (a crash) unless told otherwise, and resolves with its exit code. */
export async function stopNode(node: ServeProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
  if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill(signal);
  return node.exited;
}
