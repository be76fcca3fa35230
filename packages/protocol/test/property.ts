import fc from 'fast-check';

/**
 * Shared settings for the property tests (and the live fuzz run). Every run is
 * seeded: the seed is random unless `FC_SEED` is set, and a failure's message
 * names the seed (and fast-check's shrink path) so the exact run can be replayed:
 *
 *     FC_SEED=123 FC_PATH="4:1:0" node scripts/run-tests.mjs topic.property
 *
 * `FC_RUNS` overrides every property's run count, for longer manual runs.
 */
function envInteger(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got "${text}"`);
  return value;
}

/** The seed for a property: `FC_SEED` when set, otherwise a fresh random 32-bit seed. */
export function propertySeed(): number {
  return envInteger('FC_SEED') ?? (Math.random() * 0x1_0000_0000) | 0;
}

function parameters<Ts>(numRuns: number): fc.Parameters<Ts> {
  const result: fc.Parameters<Ts> = { seed: propertySeed(), numRuns: envInteger('FC_RUNS') ?? numRuns };
  const path = process.env['FC_PATH'];
  if (path !== undefined && path !== '') result.path = path;
  return result;
}

/** Throws, with the replay line first, when the run failed. */
function throwOnFailure<Ts>(details: fc.RunDetails<Ts>): void {
  if (!details.failed) return;
  const path = details.counterexamplePath === null ? '' : ` FC_PATH="${details.counterexamplePath}"`;
  throw new Error(`replay with FC_SEED=${details.seed}${path}\n${fc.defaultReportMessage(details) ?? 'property failed'}`, {
    cause: details.errorInstance,
  });
}

/**
 * Runs `property` with a bounded run count (`FC_RUNS` overrides `numRuns`) and a
 * printed seed. On failure the thrown error starts with the line to replay it.
 */
export function checkProperty<Ts>(property: fc.IProperty<Ts>, numRuns: number): void {
  throwOnFailure(fc.check(property, parameters<Ts>(numRuns)));
}
