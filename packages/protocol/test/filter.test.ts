import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeraldError, MAX_FILTER_LENGTH, parseFilter, statusOf } from '../src/index.js';

/** [filter, data, expected] */
type Row = readonly [string, unknown, boolean];

const SESSION = { session_id: 'abc', resolved: false, count: 3, score: 2.5, level: 'warn', meta: { zone: 'north', depth: { n: 7 } }, note: null };

const ROWS: readonly Row[] = [
  // = and != on every JSON scalar
  ["session_id = 'abc'", SESSION, true],
  ["session_id = 'abd'", SESSION, false],
  ["session_id != 'abc'", SESSION, false],
  ["session_id != 'abd'", SESSION, true],
  ['resolved = false', SESSION, true],
  ['resolved = true', SESSION, false],
  ['resolved != true', SESSION, true],
  ['count = 3', SESSION, true],
  ['count = 3.0', SESSION, true],
  ['count = 4', SESSION, false],
  ['count != 4', SESSION, true],
  ['note = null', SESSION, true],
  ['note != null', SESSION, false],
  ['count = null', SESSION, false],
  ['count != null', SESSION, true],
  // comparisons of numbers
  ['count < 4', SESSION, true],
  ['count < 3', SESSION, false],
  ['count <= 3', SESSION, true],
  ['count <= 2', SESSION, false],
  ['count > 2', SESSION, true],
  ['count > 3', SESSION, false],
  ['count >= 3', SESSION, true],
  ['count >= 4', SESSION, false],
  ['score > 2.49', SESSION, true],
  ['score < 2.51', SESSION, true],
  ['score = 2.5', SESSION, true],
  // comparisons of strings (code-unit order)
  ["level > 'info'", SESSION, true],
  ["level < 'info'", SESSION, false],
  ["level >= 'warn'", SESSION, true],
  ["level <= 'warn'", SESSION, true],
  ["level < 'warn'", SESSION, false],
  ["level < 'x'", SESSION, true],
  // numbers: negative, decimals, exponents
  ['t = -5', { t: -5 }, true],
  ['t > -6', { t: -5 }, true],
  ['t < -4.5', { t: -5 }, true],
  ['t = 0.125', { t: 0.125 }, true],
  ['t = 1e3', { t: 1000 }, true],
  ['t = 1E3', { t: 1000 }, true],
  ['t = 2.5e+2', { t: 250 }, true],
  ['t = 15e-1', { t: 1.5 }, true],
  ['t = -1.5e-2', { t: -0.015 }, true],
  ['t = 1e3', { t: 999 }, false],
  // strings with '' escapes
  ["name = 'it''s'", { name: "it's" }, true],
  ["name = 'it''s'", { name: 'its' }, false],
  ["name = ''''", { name: "'" }, true],
  ["name = ''", { name: '' }, true],
  ["name = ''", { name: null }, false],
  ["name = 'a b = c and d'", { name: 'a b = c and d' }, true],
  ["name = 'Zoë 🚀'", { name: 'Zoë 🚀' }, true],
  // in
  ["level in ('info', 'warn')", SESSION, true],
  ["level in ('info', 'error')", SESSION, false],
  ["level in ('warn')", SESSION, true],
  ['count in (1, 2, 3)', SESSION, true],
  ['count in (1, 2)', SESSION, false],
  ["count in ('3')", SESSION, false],
  ['resolved in (true, null)', SESSION, false],
  ['resolved in (false, null)', SESSION, true],
  ['missing in (1, null)', SESSION, true],
  ['missing in (1, 2)', SESSION, false],
  // and
  ["session_id = 'abc' and resolved = false", SESSION, true],
  ["session_id = 'abc' and resolved = true", SESSION, false],
  ["session_id = 'abd' and resolved = false", SESSION, false],
  ["session_id = 'abc' and resolved = false and count >= 3 and level in ('warn') and meta.zone = 'north'", SESSION, true],
  ["session_id = 'abc' and resolved = false and count >= 3 and level in ('warn') and meta.zone = 'south'", SESSION, false],
  ["session_id='abc'and resolved=false", SESSION, true],
  ["   session_id   =   'abc'   ", SESSION, true],
  // or, not and parentheses: not binds tightest, then and, then or
  ["session_id = 'abd' or resolved = false", SESSION, true],
  ["session_id = 'abd' or resolved = true", SESSION, false],
  ["session_id = 'abc' or missing = 1", SESSION, true],
  ['not resolved = true', SESSION, true],
  ['not resolved = false', SESSION, false],
  ['not not resolved = false', SESSION, true],
  ['not missing = null', SESSION, false],
  ["not level in ('info', 'error')", SESSION, true],
  ['(count = 3)', SESSION, true],
  ['((count = 3))', SESSION, true],
  ['count = 4 or count = 3 and resolved = true', SESSION, false],
  ['count = 3 or count = 4 and resolved = true', SESSION, true],
  ['(count = 3 or count = 4) and resolved = true', SESSION, false],
  ['count = 4 and resolved = true or count = 3', SESSION, true],
  ['count = 4 and (resolved = true or count = 3)', SESSION, false],
  ['not count = 4 and resolved = false', SESSION, true],
  ['not (count = 3 and resolved = false)', SESSION, false],
  ['not (count = 4 or resolved = true)', SESSION, true],
  ["(session_id = 'x' or session_id = 'abc')and(resolved = false)", SESSION, true],
  ['not(count = 4)', SESSION, true],
  [`${'('.repeat(32)}count = 3${')'.repeat(32)}`, SESSION, true],
  // fields named or and not, as before those words were keywords
  ['or = 1', { or: 1 }, true],
  ['not = 1', { not: 1 }, true],
  ['not != 1', { not: 1 }, false],
  ['not in (1, 2)', { not: 2 }, true],
  ['not not = 1', { not: 2 }, true],
  ['or = 1 or not = 2', { not: 2 }, true],
  ['a.or = 1 and a.not = 2', { a: { or: 1, not: 2 } }, true],
  // dotted paths
  ["meta.zone = 'north'", SESSION, true],
  ['meta.depth.n = 7', SESSION, true],
  ['meta.depth.n > 6', SESSION, true],
  ['meta.depth.missing = null', SESSION, true],
  ['meta.depth.n.deeper = null', SESSION, true],
  ['meta.depth.n.deeper != 7', SESSION, true],
  ['data.session_id = null', SESSION, true],
  ["data.session_id = 'abc'", { data: { session_id: 'abc' } }, true],
  ['_x.y_2 = 1', { _x: { y_2: 1 } }, true],
  // missing fields: equal only null; != anything else is true; comparisons false
  ['missing = null', SESSION, true],
  ['missing != null', SESSION, false],
  ["missing != 'x'", SESSION, true],
  ['missing != 0', SESSION, true],
  ["missing = 'x'", SESSION, false],
  ['missing < 1', SESSION, false],
  ['missing >= 0', SESSION, false],
  ["missing > ''", SESSION, false],
  // exact JSON equality: no coercion
  ["count = '3'", SESSION, false],
  ["count != '3'", SESSION, true],
  ['resolved = 0', SESSION, false],
  ['resolved = null', SESSION, false],
  ["resolved = 'false'", SESSION, false],
  ['flag = 1', { flag: true }, false],
  ['zero = false', { zero: 0 }, false],
  ['empty = null', { empty: '' }, false],
  // type-mismatched comparisons are false
  ["count < 'z'", SESSION, false],
  ["count > ''", SESSION, false],
  ['level < 5', SESSION, false],
  ['level >= 0', SESSION, false],
  ['resolved < true', SESSION, false],
  ['resolved >= false', SESSION, false],
  ['note < 1', SESSION, false],
  ['note >= null', SESSION, false],
  ['meta > 0', SESSION, false],
  ['meta = null', SESSION, false],
  ['meta != null', SESSION, true],
  ['list = 1', { list: [1] }, false],
  ['list.first = null', { list: [1] }, true],
  // arrays and objects are not scalars: never equal to one
  ["tags = 'a'", { tags: ['a'] }, false],
  ["tags != 'a'", { tags: ['a'] }, true],
  // non-object data: every field is missing
  ['a = null', 5, true],
  ['a = 1', 5, false],
  ['a != 1', 'text', true],
  ["a = 'text'", 'text', false],
  ['a = null', null, true],
  ['a > 0', null, false],
  ['a = null', [{ a: 1 }], true],
  ['a = 1', [{ a: 1 }], false],
  ['a = null', true, true],
  ['a.b = null', { a: 'string' }, true],
  ['length = null', 'abc', true],
  ['length = 3', 'abc', false],
  // inherited properties are not fields
  ['constructor = null', {}, true],
  ['toString != null', {}, false],
  ['hasOwnProperty = null', { a: 1 }, true],
];

/** Filters that must be refused, with why. */
const BAD: ReadonlyArray<readonly [string, unknown]> = [
  ['empty', ''],
  ['blank', '   '],
  ['not a string', 42],
  ['null', null],
  ['an object', { a: 1 }],
  ['dangling and', "session_id = 'abc' and"],
  ['leading and', "and session_id = 'abc'"],
  ['double and', 'a = 1 and and b = 2'],
  ['and in capitals', 'a = 1 AND b = 2'],
  ['dangling or', 'a = 1 or'],
  ['leading or', 'or a = 1'],
  ['double or', 'a = 1 or or b = 2 or'],
  ['or in capitals', 'a = 1 OR b = 2'],
  ['not in capitals', 'NOT a = 1'],
  ['not alone', 'not'],
  ['not before and', 'not and a = 1'],
  ['not after a comparison', 'a = 1 not b = 2'],
  ['empty parentheses', '()'],
  ['unclosed parenthesis', '(a = 1'],
  ['unopened parenthesis', 'a = 1)'],
  ['parentheses around a field', '(a) = 1'],
  ['parentheses around a value', 'a = (1)'],
  ['parenthesis before an operator', 'a (= 1)'],
  ['over 32 levels of parentheses', `${'('.repeat(33)}a = 1${')'.repeat(33)}`],
  ['over 32 nots', `${'not '.repeat(33)}a = 1`],
  ['over 20 clauses through or', Array.from({ length: 21 }, (_, i) => `f${i} = ${i}`).join(' or ')],
  ['two comparisons without and', 'a = 1 b = 2'],
  ['unterminated string', "session_id = 'abc"],
  ['unterminated after escape', "session_id = 'it''s"],
  ['double-quoted string', 'session_id = "abc"'],
  ['name as value', 'a = b'],
  ['value as field', '1 = a'],
  ['string as field', "'a' = 1"],
  ['true as field', 'true = a'],
  ['field only', 'a'],
  ['operator without value', 'a ='],
  ['operator only', '='],
  ['no operator', "a 'x'"],
  ['== operator', 'a == 1'],
  ['<> operator', 'a <> 1'],
  ['=> operator', 'a => 1'],
  ['! alone', 'a ! 1'],
  ['like', "a like 'x%'"],
  ['in without parens', 'a in 1'],
  ['in without parens, list', "a in 'x', 'y'"],
  ['in with empty list', 'a in ()'],
  ['in with unclosed list', 'a in (1, 2'],
  ['in with trailing comma', 'a in (1,)'],
  ['in with a name', 'a in (b)'],
  ['in with no separator', 'a in (1 2)'],
  ['in without a field', 'in (1)'],
  ['path with an empty segment', 'a..b = 1'],
  ['path ending in a dot', 'a. = 1'],
  ['path starting with a dot', '.a = 1'],
  ['path segment starting with a digit', 'a.1b = 1'],
  ['number with a trailing dot', 'a = 1.'],
  ['number with a leading dot', 'a = .5'],
  ['number with a plus sign', 'a = +1'],
  ['number followed by letters', 'a = 12abc'],
  ['hex number', 'a = 0x10'],
  ['value followed by garbage', 'a = 1 ;'],
  ['sql comment', 'a = 1 -- b'],
  ['semicolon', "a = 'x'; drop table x"],
  ['dollar', 'a = $1'],
  ['over 1024 characters', `a = '${'x'.repeat(MAX_FILTER_LENGTH)}'`],
  ['over 20 clauses', Array.from({ length: 21 }, (_, i) => `f${i} = ${i}`).join(' and ')],
  ['over 20 clauses through in', Array.from({ length: 21 }, (_, i) => `f${i} in (${i})`).join(' and ')],
  ['NUL', 'a = 1\u0000'],
  ['NUL in a name', 'a\u0000b = 1'],
  ['BEL', 'a\u0007 = 1'],
  ['ESC', '\u001ba = 1'],
  ['DEL', 'a = 1 \u007f'],
  ['C1 control', 'a \u0085= 1'],
];

function assertInvalid(text: unknown, label: string): void {
  assert.throws(
    () => parseFilter(text),
    (error: unknown) => {
      assert.ok(error instanceof HeraldError, `${label}: a HeraldError, got ${String(error)}`);
      assert.equal(error.code, 'invalid_filter', label);
      assert.equal(statusOf(error.code), 400, label);
      return true;
    },
    `expected invalid_filter for ${label}: ${JSON.stringify(text)}`,
  );
}

describe('parseFilter', () => {
  it('evaluates every operator, in, and, or, not, parentheses, paths, literals and missing fields as documented', () => {
    for (const [text, data, expected] of ROWS) {
      let filter;
      try {
        filter = parseFilter(text);
      } catch (error) {
        assert.fail(`${text}: ${(error as Error).message}`);
      }
      assert.equal(filter(data), expected, `${text} over ${JSON.stringify(data)}`);
    }
  });

  it('gives the same answer however often the same predicate runs', () => {
    const filter = parseFilter("session_id = 'abc' and resolved = false");
    const matching = { session_id: 'abc', resolved: false };
    const other = { session_id: 'abc', resolved: true };
    for (let i = 0; i < 3; i++) {
      assert.equal(filter(matching), true);
      assert.equal(filter(other), false);
    }
  });

  it('accepts limits exactly: 1024 characters and 20 clauses', () => {
    const padded = `a = '${'x'.repeat(MAX_FILTER_LENGTH - 6)}'`;
    assert.equal(padded.length, MAX_FILTER_LENGTH);
    assert.equal(parseFilter(padded)({ a: 'x'.repeat(MAX_FILTER_LENGTH - 6) }), true);
    assert.equal(parseFilter(padded)({ a: 'x' }), false);
    const twenty = Array.from({ length: 20 }, (_, i) => `f${i} = ${i}`).join(' and ');
    assert.equal(parseFilter(Array.from({ length: 20 }, (_, i) => `f${i} = ${i}`).join(' or '))({ f19: 19 }), true);
    const data = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, i]));
    assert.equal(parseFilter(twenty)(data), true);
    assert.equal(parseFilter(twenty)({ ...data, f19: 0 }), false);
  });

  it('refuses bad syntax with invalid_filter (400)', () => {
    for (const [label, text] of BAD) assertInvalid(text, label);
  });

  it('does not evaluate code or reach prototypes', () => {
    const marker = globalThis as { heraldFilterRan?: boolean };
    assertInvalid("a = '1'); globalThis.heraldFilterRan = true; ('", 'code after a string');
    assertInvalid('a = 1; globalThis.heraldFilterRan = true', 'code after a value');
    assert.equal(parseFilter("x = ''');globalThis.heraldFilterRan=true;//'")({ x: "');globalThis.heraldFilterRan=true;//" }), true);
    assert.equal(marker.heraldFilterRan, undefined);
    // A JSON body may carry an own "__proto__" key: it is an ordinary field.
    assert.equal(parseFilter('__proto__.polluted = 1')(JSON.parse('{"__proto__":{"polluted":1}}')), true);
    assert.equal(parseFilter('__proto__.polluted = 1')({}), false);
  });
});
