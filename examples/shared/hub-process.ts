// A Herald hub run as its own process with `herald serve`, the way a team whose back end
// is not Node deploys it. Examples and their tests start, stop and restart it through this.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const HERALD_BIN = fileURLToPath(new URL('../../packages/server/bin/herald.js', import.meta.url));
const HERALD_DIST = fileURLToPath(new URL('../../packages/server/dist/cli/main.js', import.meta.url));

/** How to run the hub: its port, and the rest of `herald serve`'s flags. */
export interface HubProcessOptions {
  port: number;
  /** Flags after `herald serve --port <port>`, e.g. `['--redis', url]`. */
  args: readonly string[];
  /** Where the hub's log lines go. Default: this process's stderr. */
  output?: NodeJS.WritableStream;
}

/** A `herald serve` child process that can be stopped and started again on the same port. */
export class HubProcess {
  readonly url: string;
  #child: ChildProcess | undefined;
  readonly #options: HubProcessOptions;

  constructor(options: HubProcessOptions) {
    this.#options = options;
    this.url = `http://127.0.0.1:${options.port}`;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Starts the hub and resolves once `/readyz` answers 200 (its log is reachable). */
  async start(timeoutMs = 15_000): Promise<void> {
    if (this.#child !== undefined) return;
    if (!existsSync(HERALD_DIST)) throw new Error('the hub is not built: run `npm run build` first (`npm run example` does)');
    // Another hub already answering on the port would pass the readiness check below for this one.
    if (await this.#ready()) throw Object.assign(new Error(`something already answers on port ${this.#options.port}`), { code: 'EADDRINUSE' });
    const child = spawn(process.execPath, [HERALD_BIN, 'serve', '--port', String(this.#options.port), ...this.#options.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = this.#options.output ?? process.stderr;
    child.stdout?.pipe(output, { end: false });
    child.stderr?.pipe(output, { end: false });
    this.#child = child;
    let exited: number | null | undefined;
    child.once('exit', (code) => {
      exited = code;
      if (this.#child === child) this.#child = undefined;
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (exited !== undefined) throw new Error(`herald serve exited with code ${exited} before it was ready (its log is above)`);
      if (await this.#ready()) return;
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`herald serve was not ready at ${this.url}/readyz within ${timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Stops the hub with SIGTERM (its graceful shutdown: clients are told to reconnect) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    // A hub that does not finish its shutdown in time is not worth waiting for.
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  async #ready(): Promise<boolean> {
    try {
      const response = await fetch(`${this.url}/readyz`);
      await response.body?.cancel();
      return response.status === 200;
    } catch {
      return false;
    }
  }
}
