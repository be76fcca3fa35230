#!/usr/bin/env node
// Fails when any package has an import cycle: walks the relative imports (type-only
// ones too: a cycle of types is still two files that cannot be understood apart) of
// every packages/*/src/**/*.ts(x) file and prints each cycle as its path of files.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// The repository root; another checkout may be named as the first argument.
const root = resolve(process.argv[2] ?? join(dirname(new URL(import.meta.url).pathname), '..'));

function sourceFiles(dir) {
  const found = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...sourceFiles(path));
    else if (/\.tsx?$/.test(entry) && !entry.endsWith('.d.ts')) found.push(path);
  }
  return found;
}

// `from './x.js'`, `import './x.js'`, `import('./x.js')`, `export … from './x.js'`.
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

// A relative specifier names the .js the compiler emits; the source is .ts or .tsx beside it.
function resolveImport(from, specifier, known) {
  const base = resolve(dirname(from), specifier);
  const stem = base.replace(/\.(m|c)?js$/, '');
  for (const candidate of [`${stem}.ts`, `${stem}.tsx`, join(base, 'index.ts'), base]) if (known.has(candidate)) return candidate;
  return undefined;
}

function importGraph(files) {
  const known = new Set(files);
  const graph = new Map();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const targets = new Set();
    for (const match of text.matchAll(IMPORT)) {
      const target = resolveImport(file, match[1], known);
      if (target !== undefined) targets.add(target);
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

// Depth-first search with the current path on a stack: an edge back into the
// stack closes a cycle. Not every elementary cycle of a tangle is listed, but
// every tangle shows at least one, which is enough to fail and to start untying.
// Each cycle is reported once, starting from its first file in sort order.
function findCycles(graph) {
  const cycles = new Map();
  const done = new Set();
  const onStack = new Map();
  const stack = [];
  const visit = (file) => {
    onStack.set(file, stack.length);
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (onStack.has(next)) {
        const cycle = stack.slice(onStack.get(next));
        const start = cycle.indexOf([...cycle].sort()[0]);
        const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
        cycles.set(rotated.join('\0'), rotated);
      } else if (!done.has(next)) visit(next);
    }
    stack.pop();
    onStack.delete(file);
    done.add(file);
  };
  for (const file of graph.keys()) if (!done.has(file)) visit(file);
  return [...cycles.values()];
}

let failed = false;
for (const name of readdirSync(join(root, 'packages')).sort()) {
  const src = join(root, 'packages', name, 'src');
  try {
    if (!statSync(src).isDirectory()) continue;
  } catch {
    continue;
  }
  const cycles = findCycles(importGraph(sourceFiles(src)));
  for (const cycle of cycles) {
    failed = true;
    console.error(`import cycle in packages/${name}: ${[...cycle, cycle[0]].map((file) => relative(src, file)).join(' -> ')}`);
  }
}
if (failed) process.exit(1);
console.log('check-cycles: no import cycle in packages/*/src');
