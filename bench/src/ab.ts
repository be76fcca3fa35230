/**
 * A/B comparison of server CPU per delivery, for checking a change to a write path
 * on a machine other work also uses: the servers' saturation probes (scenario 1's
 * closed loop, one event at a time) alternate round after round, so a burst of
 * outside load hits both, and the medians are compared.
 *
 *   node --import tsx bench/src/ab.ts --servers=raw-limit,herald --transport=ws --subscribers=2000 --rounds=5
 */
import { spawnSync } from 'node:child_process';
import { AgentPool } from './harness/agents.js';
import { stopAllSync } from './harness/processes.js';
import { Rig, type StepResult } from './harness/rig.js';
import { SERVER_NAMES, type ServerName, type Transport } from './harness/targets.js';

function flag(name: string, fallback: string): string {
  const prefix = `--${name}=`;
  return (
    process.argv
      .slice(2)
      .find((a) => a.startsWith(prefix))
      ?.slice(prefix.length) ?? fallback
  );
}

const servers = flag('servers', 'raw-limit,herald').split(',') as ServerName[];
const transport = flag('transport', 'ws') as Transport;
const subscribers = Number(flag('subscribers', '2000'));
const rounds = Number(flag('rounds', '5'));
const durationMs = Number(flag('ms', '2000'));
for (const server of servers) if (!SERVER_NAMES.includes(server)) throw new Error(`unknown server ${server}`);

process.on('exit', stopAllSync);
spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
const placement = { serverCore: 0, generatorCore: 1 };
const pool = new AgentPool(placement.generatorCore);

async function probe(server: ServerName): Promise<StepResult> {
  const rig = await Rig.start({ placement, pool, server });
  try {
    const topics = { kind: 'single' as const, topic: 'bench' };
    const opened = await rig.subscribe(transport, subscribers, topics, { sampleEvery: Math.max(1, Math.floor(subscribers / 100)) });
    if (opened.ready < subscribers) throw new Error(`${server}: ${opened.ready} of ${subscribers} connected`);
    rig.perEvent = subscribers;
    await rig.openPublisher(topics);
    await rig.step({ window: 1, durationMs: 500 }, 2000);
    return await rig.step({ window: 1, durationMs }, 2000);
  } finally {
    await rig.close();
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const samples = new Map<ServerName, StepResult[]>(servers.map((s) => [s, []]));
for (let round = 0; round < rounds; round++) {
  // Alternate the order too, so neither server always runs right after the other's teardown.
  const order = round % 2 === 0 ? servers : [...servers].reverse();
  for (const server of order) {
    const step = await probe(server);
    samples.get(server)!.push(step);
    process.stdout.write(
      `round ${round + 1} ${server.padEnd(12)} ${step.cpuUsPerDelivery.toFixed(2).padStart(6)} µs/delivery, ` +
        `${step.deliveriesPerSec.toLocaleString('en-US').padStart(8)} deliveries/s, server ${step.serverCpuPercent}% (core ${step.serverCoreBusyPercent ?? '?'}% busy)\n`,
    );
  }
}
const medians = servers.map((server) => median(samples.get(server)!.map((s) => s.cpuUsPerDelivery)));
process.stdout.write(`\n${transport} × ${subscribers}, ${rounds} rounds, median CPU µs per delivery:\n`);
servers.forEach((server, i) =>
  process.stdout.write(
    `  ${server.padEnd(12)} ${medians[i]!.toFixed(2)} (min ${Math.min(...samples.get(server)!.map((s) => s.cpuUsPerDelivery)).toFixed(2)})\n`,
  ),
);
if (servers.length === 2) process.stdout.write(`  ratio ${servers[1]} / ${servers[0]}: ${(medians[1]! / medians[0]!).toFixed(2)}\n`);
await pool.stop();
