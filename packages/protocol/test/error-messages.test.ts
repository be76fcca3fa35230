import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ERRORS, HeraldError } from '../src/index.js';
import { ERROR_MESSAGES } from '../src/error-messages.js';

describe('error messages', () => {
  it('every code has a default message, and no message is left without a code', () => {
    assert.deepEqual(Object.keys(ERROR_MESSAGES).sort(), Object.keys(ERRORS).sort());
    for (const [code, message] of Object.entries(ERROR_MESSAGES)) assert.ok(message.length > 0 && message !== code, code);
  });

  it('browser builds leave the texts out (the package.json browser field), and a HeraldError then says its code', async () => {
    const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const bundle = async (platform: 'browser' | 'node') =>
      (await build({ entryPoints: [entry], bundle: true, write: false, format: 'esm', platform, logLevel: 'silent' })).outputFiles[0]!.text;
    const [browser, node] = await Promise.all([bundle('browser'), bundle('node')]);
    const sample = ERROR_MESSAGES['invalid_topic']!;
    assert.ok(node.includes(sample), 'the Node build carries the messages');
    assert.ok(!browser.includes(sample), 'the browser build does not');
    assert.equal(new HeraldError('invalid_topic').message, sample, 'in Node a HeraldError still gets its default message');
  });
});
