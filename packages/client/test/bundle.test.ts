import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { build } from 'esbuild';
// @ts-expect-error: a plain .mjs script without type declarations
import { browserBundle, OUTPUT } from '../scripts/browser-bundle.mjs';

/**
 * The budget from the issue: @herald/client, minified and gzipped, at most 8 KB.
 * The error catalog's default messages stay out of it (packages/protocol's
 * `browser` field swaps error-messages.ts for an empty table).
 */
const BUDGET_BYTES = 8 * 1024;

describe('bundle', () => {
  it(`@herald/client minified and gzipped fits in ${BUDGET_BYTES} bytes`, async () => {
    const result = await build({
      entryPoints: [fileURLToPath(new URL('../src/index.ts', import.meta.url))],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]!.contents;
    const gzipped = gzipSync(code, { level: 9 }).length;
    console.log(`@herald/client: ${code.length} bytes minified, ${gzipped} bytes gzipped (budget ${BUDGET_BYTES})`);
    assert.ok(gzipped <= BUDGET_BYTES, `${gzipped} bytes gzipped is over the ${BUDGET_BYTES}-byte budget`);
    // Isomorphic: nothing from Node may end up in the browser bundle.
    assert.doesNotMatch(new TextDecoder().decode(code), /require\(|node:/);
  });

  it('the demo page bundle (packages/server/public/herald-client.js) is up to date', async () => {
    const fresh = (await browserBundle()) as string;
    assert.ok(readFileSync(OUTPUT, 'utf8') === fresh, 'out of date: run node packages/client/scripts/browser-bundle.mjs');
  });
});
