/**
 * Starting, measuring and stopping the processes of a run. Every child is started
 * through `bash -c 'ulimit -n …; exec taskset -c CORE node …'`: the open-file limit
 * is raised as far as the hard limit allows, the process is pinned to one core, and
 * `exec` keeps the pid, so /proc/<pid> is the node process itself. Children get
 * their own process group, and the whole group is killed when they are stopped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';

/** Clock ticks per second of /proc/<pid>/stat times. */
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** The hard open-files limit of this process tree (children cannot go above it). */
export function hardFileLimit(): number {
  const out = spawnSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim();
  return out === 'unlimited' ? 1_048_576 : Number(out);
}

/** Whether `taskset` exists (pinning is skipped without it, and the results say so). */
export const HAVE_TASKSET = spawnSync('bash', ['-c', 'command -v taskset'], { encoding: 'utf8' }).status === 0;

const running = new Set<ChildProcess>();

/** A started child process. */
export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<number | null>;
  output(): string;
}

/** Options of {@link startPinned}. */
export interface StartOptions {
  /** Core to pin to, or undefined for no pinning. */
  core: number | undefined;
  /** Open an IPC channel (load-generator agents). */
  ipc?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

function quote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Starts `node <args>` pinned to a core with the highest open-file limit allowed. */
export function startPinned(args: readonly string[], options: StartOptions): Child {
  const pin = options.core !== undefined && HAVE_TASKSET ? `taskset -c ${options.core} ` : '';
  const command = `ulimit -n "$(ulimit -Hn)"; exec ${pin}${quote(process.execPath)} ${args.map(quote).join(' ')}`;
  const child = spawn('bash', ['-c', command], {
    stdio: ['ignore', 'pipe', 'pipe', ...(options.ipc === true ? (['ipc'] as const) : [])],
    detached: true,
    cwd: options.cwd,
    env: options.env ?? process.env,
  });
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  if (child.pid === undefined) throw new Error(`could not start node ${args.join(' ')}`);
  return { process: child, pid: child.pid, exited, output: () => output };
}

/** Kills a child's whole process group and waits (bounded) for it to exit. */
export async function stop(child: Child, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  try {
    process.kill(signal === 'SIGKILL' ? -child.pid : child.pid, signal);
  } catch {
    return;
  }
  await Promise.race([child.exited, sleep(signal === 'SIGKILL' ? 5000 : 15_000)]);
  if (signal !== 'SIGKILL') await stop(child, 'SIGKILL');
}

/** Kills every child still running (on exit or interrupt of the harness). */
export function stopAllSync(): void {
  for (const child of running) {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  running.clear();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** CPU time (user + system, all threads) of a process, in microseconds. */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Field 2 (comm) is in parentheses and may hold spaces: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1e6) / CLK_TCK;
}

/** Resident set size of a process, in bytes, as the kernel reports it. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match === null ? 0 : Number(match[1]) * 1024;
}

/** A port free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** GETs a path; resolves with status and body, or rejects. */
export function httpGet(port: number, path: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Polls GET /healthz until it answers 200, the child exits, or the time is up. */
export async function waitHealthy(child: Child, port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) throw new Error(`server exited early: ${child.output()}`);
    try {
      if ((await httpGet(port, '/healthz', 500)).status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`server on port ${port} not healthy after ${timeoutMs} ms: ${child.output()}`);
}

/** 1-minute load average and the number of runnable tasks, to record how busy the machine was. */
export function loadAverage(): { load1: number; running: string } {
  const parts = readFileSync('/proc/loadavg', 'utf8').trim().split(' ');
  return { load1: Number(parts[0]), running: parts[3] ?? '' };
}

/** Busy and total jiffies of one core so far, from /proc/stat (busy = all but idle and iowait). */
export function coreTimes(core: number): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${core} `));
  if (line === undefined) return { busy: 0, total: 0 };
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((sum, v) => sum + v, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}
