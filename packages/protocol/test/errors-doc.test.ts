import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { catalogCloseCodes, CLIENT_ACTIONS, closeCodeEntry, closeCodeOf, ERRORS, HeraldError, type ErrorCode } from '../src/index.js';

// docs/errors.md is what client authors program against: these tests fail when it
// and the catalog (src/errors.ts) disagree on a code, a status or a close code.
const DOC = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

/** The rows of the first Markdown table after `heading`, as arrays of trimmed cells (header and rule rows dropped). */
function tableAfter(heading: string): string[][] {
  const start = DOC.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `docs/errors.md has a "${heading}" section`);
  const lines = DOC.slice(start).split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim()),
    );
  }
  // Drop the header row and the |---| rule.
  return rows.slice(2);
}

interface DocumentedCode {
  status: number | undefined;
  close: number | undefined;
  websocket: string;
  /** The last cell, the "Client action" column. */
  action: string;
}

/** The action named in a "Client action" cell: one `action` in backticks. */
function actionCell(cell: string | undefined): string {
  return /^`([a-z_]+)`$/.exec(cell ?? '')?.[1] ?? `(not one action: "${cell}")`;
}

function documentedCodes(): Map<string, DocumentedCode> {
  const codes = new Map<string, DocumentedCode>();
  for (const row of tableAfter('## Codes')) {
    const [code, http, websocket] = row;
    const name = /^`([a-z_]+)`$/.exec(code ?? '')?.[1];
    assert.ok(name !== undefined, `a code cell is one \`code\`: ${code}`);
    assert.ok(!codes.has(name), `${name} is listed once`);
    const status = /^(\d{3})\b/.exec(http ?? '')?.[1];
    const close = /\bclose (\d{4})\b/.exec(websocket ?? '')?.[1];
    codes.set(name, {
      status: status === undefined ? undefined : Number(status),
      close: close === undefined ? undefined : Number(close),
      websocket: websocket ?? '',
      action: actionCell(row.at(-1)),
    });
  }
  return codes;
}

describe('docs/errors.md matches the error catalog', () => {
  const documented = documentedCodes();
  const catalog = Object.keys(ERRORS) as ErrorCode[];

  it('lists every catalog code, and no code the catalog does not have', () => {
    assert.deepEqual(
      [...documented.keys()].filter((code) => !(code in ERRORS)),
      [],
      'documented codes missing from the catalog',
    );
    assert.deepEqual(
      catalog.filter((code) => !documented.has(code)),
      [],
      'catalog codes missing from docs/errors.md',
    );
  });

  it('gives each code the HTTP status of the catalog', () => {
    for (const code of catalog) {
      assert.equal(documented.get(code)?.status, ERRORS[code].status, `HTTP status of ${code}`);
    }
  });

  it('gives each code the WebSocket close code of the catalog, and none to codes without one', () => {
    for (const code of catalog) {
      assert.equal(documented.get(code)?.close, closeCodeOf(code), `close code of ${code} (cell: "${documented.get(code)?.websocket}")`);
    }
  });

  it('lists every catalog close code in the close-code table, on the row naming the error code', () => {
    const rows = new Map(tableAfter('## WebSocket close codes').map((row) => [Number(row[0]), row.join(' | ')]));
    for (const code of catalog) {
      const close = closeCodeOf(code);
      if (close === undefined) continue;
      assert.match(rows.get(close) ?? '', new RegExp(`\`${code}\``), `close ${close} names ${code}`);
    }
  });

  it('gives each code the client action of the catalog', () => {
    for (const code of catalog) {
      assert.equal(documented.get(code)?.action, ERRORS[code].client, `client action of ${code}`);
    }
  });

  it('lists exactly the catalog close codes, each with the client action of the catalog', () => {
    const rows = new Map(tableAfter('## WebSocket close codes').map((row) => [row[0] ?? '', actionCell(row.at(-1))]));
    assert.deepEqual([...rows.keys()], catalogCloseCodes().map(String), 'the close-code table lists the catalog close codes, in order');
    for (const close of catalogCloseCodes()) {
      assert.equal(rows.get(String(close)), closeCodeEntry(close)?.client, `client action of close ${close}`);
    }
  });

  it('explains every client action, and no other', () => {
    const explained = tableAfter('## Client actions').map((row) => actionCell(row[0]));
    assert.deepEqual(explained, [...CLIENT_ACTIONS]);
  });

  it('shows the HTTP error body with exactly the fields HeraldError sends', () => {
    const section = DOC.slice(DOC.indexOf('\n## HTTP error body\n'));
    const example = /```json\n(.+)\n```/.exec(section)?.[1];
    assert.ok(example !== undefined, 'the section has a JSON example');
    const body = JSON.parse(example) as { error: Record<string, unknown> };
    const sent = new HeraldError('invalid_topic', 'x').toBody();
    assert.deepEqual(Object.keys(body), Object.keys(sent));
    assert.deepEqual(Object.keys(body.error), Object.keys(sent.error));
    assert.ok(documented.has(String(body.error['code'])), 'the example uses a documented code');
  });
});
