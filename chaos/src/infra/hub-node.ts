import type { ServeProcess } from '../../../packages/server/test/helpers/serve.js';
import { startServe } from '../../../packages/server/test/helpers/serve.js';

/**
 * A `herald serve` process that the harness may kill and restart. Exits the
 * harness did not ask for are counted as crashes, with the tail of the log kept.
 */
export class HubNode {
  #process: ServeProcess | undefined;
  #expectExit = false;
  crashes = 0;
  restarts = 0;
  readonly crashLogs: string[] = [];

  constructor(
    readonly name: string,
    readonly args: () => string[],
    readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** Starts the process (on a new ephemeral port) and waits until it listens. */
  async start(): Promise<void> {
    this.#expectExit = false;
    const child = await startServe(['--no-demo', ...this.args()], this.env);
    this.#process = child;
    void child.exited.then((code) => {
      if (this.#process !== child || this.#expectExit) return;
      this.crashes += 1;
      this.crashLogs.push(`${this.name} exited with ${code ?? child.child.signalCode}: ${child.output().slice(-2000)}`);
      this.#process = undefined;
    });
  }

  get running(): boolean {
    return this.#process !== undefined;
  }

  /** The node's URL; throws when it is not running. */
  get url(): string {
    if (this.#process === undefined) throw new Error(`${this.name} is not running`);
    return this.#process.url;
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  /** The process id, for SIGSTOP-style faults. */
  get pid(): number | undefined {
    return this.#process?.child.pid;
  }

  /** Kills the process with `signal` (SIGKILL by default) and waits for it to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#process;
    if (child === undefined) return;
    this.#expectExit = true;
    this.#process = undefined;
    if (child.child.exitCode === null && child.child.signalCode === null) child.child.kill(signal);
    await child.exited;
  }

  /** Kills (SIGKILL) and starts again. */
  async restart(): Promise<void> {
    await this.kill();
    this.restarts += 1;
    await this.start();
  }

  /** Graceful stop at the end of a run. */
  async stop(): Promise<void> {
    await this.kill('SIGTERM');
  }
}
