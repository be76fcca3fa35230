import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { defaultText, SETTINGS, type Setting } from '../src/cli/settings.js';

// The README's configuration table is what operators read; these tests fail when it
// and the settings table (src/cli/settings.ts) disagree on a setting, its flag, its
// environment variable or its default, in either direction.
const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

interface DocumentedSetting {
  flags: string[];
  env: string[];
  defaultText: string;
}

/** The code spans of a cell: "`--demo` / `--no-demo`" gives ["--demo", "--no-demo"]. */
function codeSpans(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);
}

/** The rows of the table in the README's Configuration section, by config key. */
function documentedSettings(): Map<string, DocumentedSetting> {
  const start = README.indexOf('\n## Configuration\n');
  assert.ok(start >= 0, 'README.md has a "## Configuration" section');
  const end = README.indexOf('\n## ', start + 1);
  const lines = README.slice(start, end < 0 ? undefined : end)
    .split('\n')
    .filter((line) => line.startsWith('|'));
  const [header, ...body] = lines;
  assert.equal(header, '| flag | environment | config key | default | what |', 'the table has the columns this test reads');
  const rows = new Map<string, DocumentedSetting>();
  // The first body line is the |---| rule.
  for (const line of body.slice(1)) {
    const [flags, env, key, fallback] = line
      .slice(1, -1)
      .split(' | ')
      .map((cell) => cell.trim());
    const keys = codeSpans(key ?? '');
    assert.equal(keys.length, 1, `a config key cell holds one \`key\`: ${line}`);
    const name = keys[0]!;
    assert.ok(!rows.has(name), `${name} has one README row`);
    rows.set(name, { flags: codeSpans(flags ?? ''), env: codeSpans(env ?? ''), defaultText: fallback ?? '' });
  }
  return rows;
}

/** The flag cell a setting's README row must have: booleans may also show their `--no-` form. */
function flagsAllowed(setting: Setting): string[][] {
  const flag = `--${setting.flag}`;
  return setting.convert === 'boolean' ? [[flag], [flag, `--no-${setting.flag}`]] : [[flag]];
}

describe('README settings table', () => {
  const documented = documentedSettings();

  it('has a row for every setting the CLI knows', () => {
    const missing = SETTINGS.filter((setting) => !documented.has(setting.key)).map((setting) => setting.key);
    assert.deepEqual(missing, [], `settings without a README row: ${missing.join(', ')}`);
  });

  it('has no row for a setting the CLI does not know', () => {
    const known = new Set<string>(SETTINGS.map((setting) => setting.key));
    const unknown = [...documented.keys()].filter((key) => !known.has(key));
    assert.deepEqual(unknown, [], `README rows for no setting: ${unknown.join(', ')}`);
  });

  for (const setting of SETTINGS) {
    it(`documents ${setting.key} with the CLI's flag, environment variable and default`, () => {
      const row = documented.get(setting.key);
      if (row === undefined) return; // reported by the first test
      assert.ok(
        flagsAllowed(setting).some((flags) => JSON.stringify(flags) === JSON.stringify(row.flags)),
        `${setting.key}: README flag cell ${JSON.stringify(row.flags)}, CLI --${setting.flag}`,
      );
      assert.deepEqual(row.env, [setting.env], `${setting.key}: environment variable`);
      assert.equal(row.defaultText, defaultText(setting), `${setting.key}: default`);
    });
  }
});
