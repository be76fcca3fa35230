import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// Runs in a child process with --expose-gc, so the heap can be measured after a full collection.
const SCRIPT = `
import { MemoryBroker } from ${JSON.stringify(fileURLToPath(new URL('../src/broker/memory.ts', import.meta.url)))};
const broker = new MemoryBroker({ maxEvents: 100 });
await broker.start(() => undefined);
globalThis.gc();
const before = process.memoryUsage().heapUsed;
// A fresh, flat 100 KiB string per event (repeat() and concatenation build ropes that share memory).
for (let i = 0; i < 1100; i++) await broker.append([{ topic: 't', type: 'm', data: Buffer.alloc(100 * 1024, 97 + (i % 26)).toString('latin1') }]);
globalThis.gc();
process.stdout.write(String(process.memoryUsage().heapUsed - before));
await broker.close();
`;

describe('MemoryBroker retention', () => {
  it('lets trimmed events be collected at once, not when the array is next compacted', () => {
    const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', SCRIPT], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const grown = Number(child.stdout);
    // 100 retained events of 100 KiB each is ~10 MiB;
    // holding the 1,000 trimmed ones too would be ten times that.
    assert.ok(grown < 40 * 1024 * 1024, `heap grew by ${(grown / 1048576).toFixed(1)} MiB for 100 retained events`);
  });
});
