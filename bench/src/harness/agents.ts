/**
 * The harness side of the load-generator agents: start them pinned to the
 * generator core, send requests over IPC, await replies (bounded).
 */
import { fileURLToPath } from 'node:url';
import type { AgentReply, AgentRequest } from '../load/agent.js';
import type { GroupCounts } from '../load/subscribers.js';
import type { PublishResult } from '../load/publisher.js';
import { cpuMicros, startPinned, stop, type Child } from './processes.js';

/** The repository root (children run from there so `--import tsx` resolves). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const AGENT = fileURLToPath(new URL('../load/agent.ts', import.meta.url));

/** A running load-generator agent. */
export class Agent {
  readonly child: Child;
  #next = 0;
  readonly #waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  constructor(core: number | undefined) {
    this.child = startPinned(['--import', 'tsx', AGENT], { core, ipc: true, cwd: ROOT });
    this.child.process.on('message', (reply: AgentReply) => {
      const waiter = this.#waiting.get(reply.id);
      if (waiter === undefined) return;
      this.#waiting.delete(reply.id);
      if (reply.error !== undefined) waiter.reject(new Error(`agent: ${reply.error}`));
      else waiter.resolve(reply.result);
    });
    void this.child.exited.then(() => {
      for (const waiter of this.#waiting.values()) waiter.reject(new Error(`agent exited: ${this.child.output()}`));
      this.#waiting.clear();
    });
  }

  /** Sends a request; rejects after `timeoutMs`. */
  request<T>(request: AgentRequest, timeoutMs = 60_000): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`agent request ${request.op} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.process.send({ id, request });
    });
  }

  counts(): Promise<Record<string, GroupCounts>> {
    return this.request({ op: 'counts' }, 10_000);
  }

  publish(step: Extract<AgentRequest, { op: 'publish' }>['step']): Promise<PublishResult> {
    return this.request({ op: 'publish', step }, step.durationMs + 30_000);
  }

  cpu(): number {
    try {
      return cpuMicros(this.child.pid);
    } catch {
      return 0;
    }
  }

  /** Closes the agent's connections and publisher; the agent stays up for the next rig. */
  async clear(): Promise<void> {
    await this.request({ op: 'close' }, 15_000);
  }

  get alive(): boolean {
    return this.child.process.exitCode === null && this.child.process.signalCode === null;
  }

  async stop(): Promise<void> {
    try {
      await this.request({ op: 'close' }, 5000);
    } catch {
      // it is killed below anyway
    }
    await stop(this.child);
  }
}

let lastAddress = 1;

/**
 * `count` loopback source addresses (127.0.0.2 … 127.0.0.254), rotating across
 * calls: each address has its own ~28k ephemeral ports, and moving on means the
 * TIME_WAIT sockets of an earlier run never block the next one.
 */
export function sourceAddresses(count: number): string[] {
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) {
    lastAddress = lastAddress >= 254 ? 2 : lastAddress + 1;
    addresses.push(`127.0.0.${lastAddress}`);
  }
  return addresses;
}

/**
 * Agents kept for a whole run: starting a node process with the TypeScript loader
 * takes about half a second, and a run sets up dozens of rigs.
 */
export class AgentPool {
  readonly #idle: Agent[] = [];
  readonly #all = new Set<Agent>();
  readonly #core: number | undefined;

  constructor(core: number | undefined) {
    this.#core = core;
  }

  /** An idle agent, or a new one. */
  acquire(): Agent {
    let agent = this.#idle.pop();
    while (agent !== undefined && !agent.alive) agent = this.#idle.pop();
    if (agent === undefined) {
      agent = new Agent(this.#core);
      this.#all.add(agent);
    }
    return agent;
  }

  /** Clears agents and makes them available again (an agent that fails to clear is stopped). */
  async release(agents: readonly Agent[]): Promise<void> {
    await Promise.all(
      agents.map(async (agent) => {
        try {
          await agent.clear();
          this.#idle.push(agent);
        } catch {
          this.#all.delete(agent);
          await agent.stop();
        }
      }),
    );
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#all].map((agent) => agent.stop()));
    this.#all.clear();
    this.#idle.length = 0;
  }
}
