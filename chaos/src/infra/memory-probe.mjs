// Preloaded into the hub process by `npm run soak` (node --expose-gc --import this file):
// every CHAOS_MEMORY_INTERVAL ms it runs a full GC, so heapUsed measures live objects
// rather than garbage not yet collected, and appends one JSON line with the process's
// memory to CHAOS_MEMORY_FILE. Plain JavaScript, so the hub runs without tsx.
import { appendFileSync } from 'node:fs';

const file = process.env.CHAOS_MEMORY_FILE;
const interval = Number(process.env.CHAOS_MEMORY_INTERVAL ?? '10000');
if (file) {
  const sample = () => {
    if (typeof globalThis.gc === 'function') globalThis.gc();
    const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
    appendFileSync(file, `${JSON.stringify({ at: Date.now(), rss, heapUsed, heapTotal, external, arrayBuffers })}\n`);
  };
  setInterval(sample, interval).unref();
  setTimeout(sample, 1000).unref();
}
