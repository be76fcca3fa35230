import type { BenchConfig } from '../config.js';
import type { AgentPool } from '../harness/agents.js';
import type { Placement } from '../harness/rig.js';

/** What every scenario gets from the runner. */
export interface Context {
  config: BenchConfig;
  placement: Placement;
  /** Load-generator agents shared by every rig of the run. */
  pool: AgentPool;
  /** Progress output (the runner prints it; the smoke test keeps it quiet). */
  log(line: string): void;
  /** Hard open-files limit: no process can hold more sockets than this. */
  fdLimit: number;
}

/** Runs `body`, turning a failure into an `error` string on the result so one broken run does not end the benchmark. */
export async function guarded<T extends object>(ctx: Context, what: string, body: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await body();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    ctx.log(`  ${what}: FAILED: ${message.slice(0, 300)}`);
    return { ...fallback, error: message.slice(0, 1000) };
  }
}
