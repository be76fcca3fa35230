import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HeraldError, MAX_FILTER_LENGTH, parseFilter } from '../src/index.js';
import { checkProperty } from './property.js';

// A filter as a tree, printed to text and evaluated by a reference written from
// docs/protocol.md section 2 ("Filters"), independently of src/filter.ts.
type Scalar = string | number | boolean | null;
interface Literal {
  text: string;
  value: Scalar;
}
type Comparison = { path: string[]; op: '=' | '!=' | '<' | '<=' | '>' | '>='; value: Literal } | { path: string[]; op: 'in'; values: Literal[] };

const MISSING = Symbol('missing');

/** [spec] A path descends into nested objects only; arrays are not entered; anything else is missing. */
function referenceLookup(data: unknown, path: readonly string[]): unknown {
  let current: unknown = data;
  for (const key of path) {
    const isObject = typeof current === 'object' && current !== null && !Array.isArray(current);
    if (!isObject || !Object.prototype.hasOwnProperty.call(current, key)) return MISSING;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** [spec] Exact equality with a scalar; an object or array never equals a value; a missing field equals only null. */
function referenceEqual(field: unknown, value: Scalar): boolean {
  if (field === MISSING) return value === null;
  if (typeof field === 'object' && field !== null) return false;
  return field === value;
}

/** [spec] Numbers compare with numbers, strings with strings; any other pairing (or a missing field) is false. */
function referenceOrder(op: string, field: unknown, value: Scalar): boolean {
  const sameKind = (typeof field === 'number' && typeof value === 'number') || (typeof field === 'string' && typeof value === 'string');
  if (!sameKind) return false;
  const a = field as number | string;
  const b = value as number | string;
  if (op === '<') return a < b;
  if (op === '<=') return a <= b;
  if (op === '>') return a > b;
  return a >= b;
}

/** [spec] Every comparison must hold. */
function referenceEvaluate(filter: readonly Comparison[], data: unknown): boolean {
  return filter.every((comparison) => {
    const field = referenceLookup(data, comparison.path);
    if (comparison.op === 'in') return comparison.values.some((literal) => referenceEqual(field, literal.value));
    if (comparison.op === '=') return referenceEqual(field, comparison.value.value);
    if (comparison.op === '!=') return !referenceEqual(field, comparison.value.value);
    return referenceOrder(comparison.op, field, comparison.value.value);
  });
}

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'true', 'false', 'null']);
const NAME_POOL = ['a', 'b', 'n', '_x', 'A1', 'status', '__proto__', 'constructor', 'toString', 'and_', 'inx', 'nullable'];
const nameArb = fc.oneof(
  fc.constantFrom(...NAME_POOL),
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/).filter((name) => !KEYWORDS.has(name)),
);
// Keywords are fine as later segments of a dotted path (`a.and` is one name token).
const pathArb = fc.tuple(nameArb, fc.array(fc.oneof(nameArb, fc.constantFrom(...KEYWORDS)), { maxLength: 2 })).map(([first, rest]) => [first, ...rest]);

const STRING_POOL = ['', 'a', 'b', "it's", "''", 'ünï', '😀', 'a b', 'tab\there', 'line\nbreak'];
const stringLiteralArb: fc.Arbitrary<Literal> = fc
  .oneof(
    fc.constantFrom(...STRING_POOL),
    fc.string({ maxLength: 8 }).filter((s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s)),
  )
  .map((value) => ({ text: `'${value.replaceAll("'", "''")}'`, value }));
/** Number texts of every shape the grammar allows: sign, leading zeros, decimals, exponents. */
const numberLiteralArb: fc.Arbitrary<Literal> = fc
  .tuple(
    fc.constantFrom('', '-'),
    fc.stringMatching(/^[0-9]{1,4}$/),
    fc.option(fc.stringMatching(/^[0-9]{1,3}$/), { nil: undefined }),
    fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.stringMatching(/^[0-9]{1,2}$/)), { nil: undefined }),
  )
  .map(([sign, whole, fraction, exponent]) => {
    const text = `${sign}${whole}${fraction === undefined ? '' : `.${fraction}`}${exponent === undefined ? '' : exponent.join('')}`;
    return { text, value: Number(text) };
  });
const keywordLiteralArb: fc.Arbitrary<Literal> = fc.constantFrom<Literal>(
  { text: 'true', value: true },
  { text: 'false', value: false },
  { text: 'null', value: null },
);
const literalArb = fc.oneof(numberLiteralArb, stringLiteralArb, keywordLiteralArb);

const comparisonArb: fc.Arbitrary<Comparison> = fc.oneof(
  fc.record({ path: pathArb, op: fc.constantFrom('=', '!=', '<', '<=', '>', '>=' as const), value: literalArb }),
  fc.record({ path: pathArb, op: fc.constant('in' as const), values: fc.array(literalArb, { minLength: 1, maxLength: 4 }) }),
);
const filterArb = fc.array(comparisonArb, { minLength: 1, maxLength: 20 });

/** Whitespace the tokenizer must skip: none or some (ws0), at least one (ws1). */
const ws0 = fc.string({ unit: fc.constantFrom(' ', '\t', '\n', '\r'), maxLength: 2 });
const ws1 = fc.string({ unit: fc.constantFrom(' ', '\t', '\n', '\r'), minLength: 1, maxLength: 2 });

/** Prints a filter with random spacing; spaces are required only where two words would merge. */
function printArb(filter: readonly Comparison[]): fc.Arbitrary<string> {
  const parts = filter.map((comparison) => {
    const path = comparison.path.join('.');
    if (comparison.op === 'in') {
      const items = comparison.values.map((literal) => fc.tuple(ws0, ws0).map(([before, after]) => `${before}${literal.text}${after}`));
      return fc.tuple(ws0, ws1, ws0, fc.tuple(...items)).map(([lead, gap, open, values]) => `${lead}${path}${gap}in${open}(${values.join(',')})`);
    }
    return fc.tuple(ws0, ws0, ws0).map(([lead, a, b]) => `${lead}${path}${a}${comparison.op}${b}${comparison.value.text}`);
  });
  const joiners = filter.slice(1).map(() => fc.tuple(ws1, ws1).map(([a, b]) => `${a}and${b}`));
  return fc
    .tuple(fc.tuple(...parts), fc.tuple(...joiners), ws0)
    .map(([texts, ands, tail]) => texts.map((text, i) => (i === 0 ? text : `${ands[i - 1]}${text}`)).join('') + tail);
}

const printedArb = filterArb.chain((filter) => fc.tuple(fc.constant(filter), printArb(filter)));

/** A filter with `or`, `not` and parentheses, as a tree over comparisons. */
type Tree = { kind: 'leaf'; comparison: Comparison } | { kind: 'and' | 'or'; parts: Tree[] } | { kind: 'not'; inner: Tree };

/** [spec] `and`: every part holds; `or`: some part holds; `not`: the inner one does not. */
function referenceTree(tree: Tree, data: unknown): boolean {
  if (tree.kind === 'leaf') return referenceEvaluate([tree.comparison], data);
  if (tree.kind === 'not') return !referenceTree(tree.inner, data);
  return tree.kind === 'and' ? tree.parts.every((part) => referenceTree(part, data)) : tree.parts.some((part) => referenceTree(part, data));
}

function leaves(tree: Tree): number {
  if (tree.kind === 'leaf') return 1;
  if (tree.kind === 'not') return leaves(tree.inner);
  return tree.parts.reduce((sum, part) => sum + leaves(part), 0);
}

const treeArb: fc.Arbitrary<Tree> = fc
  .letrec<{ tree: Tree }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      comparisonArb.map((comparison): Tree => ({ kind: 'leaf', comparison })),
      fc.record({ kind: fc.constantFrom('and' as const, 'or' as const), parts: fc.array(tie('tree'), { minLength: 2, maxLength: 3 }) }),
      tie('tree').map((inner): Tree => ({ kind: 'not', inner })),
    ),
  }))
  .tree.filter((tree) => leaves(tree) <= 20);

/**
 * Prints a tree with random spacing and, where precedence does not need them,
 * random extra parentheses: `not` binds tightest, then `and`, then `or`, so an
 * `or` inside an `and` and anything compound under a `not` must be wrapped.
 */
function printTree(tree: Tree): fc.Arbitrary<string> {
  const wrapMaybe = (text: fc.Arbitrary<string>, needed: boolean): fc.Arbitrary<string> =>
    fc.tuple(text, fc.boolean(), ws0, ws0).map(([inner, extra, a, b]) => (needed || extra ? `(${a}${inner}${b})` : inner));
  if (tree.kind === 'leaf') return printArb([tree.comparison]);
  if (tree.kind === 'not') {
    const inner = wrapMaybe(printTree(tree.inner), tree.inner.kind === 'and' || tree.inner.kind === 'or');
    // `not` and a following name need a space between them; before `(` none is needed.
    return fc.tuple(ws0, inner, ws1).map(([lead, text, gap]) => `${lead}not${text.trimStart().startsWith('(') ? '' : gap}${text}`);
  }
  const parts = tree.parts.map((part) => wrapMaybe(printTree(part), tree.kind === 'and' && part.kind === 'or'));
  const joiners = tree.parts.slice(1).map(() => fc.tuple(ws1, ws1).map(([a, b]) => `${a}${tree.kind}${b}`));
  return fc
    .tuple(fc.tuple(...parts), fc.tuple(...joiners))
    .map(([texts, words]) => texts.map((text, i) => (i === 0 ? text : `${words[i - 1]}${text}`)).join(''));
}

const printedTreeArb = treeArb.chain((tree) => fc.tuple(fc.constant(tree), printTree(tree)));

/** Event data as the hub gets it: JSON, with keys and scalars that filters often name. */
const scalarArb = fc.oneof(
  fc.constantFrom<Scalar>(0, -0, 1, -1, 2.5, 10, 1000, 'a', 'b', '', "it's", true, false, null),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 4 }),
);
const dataArb = fc
  .letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, scalarArb, tie('object'), fc.array(scalarArb, { maxLength: 2 })),
    object: fc.dictionary(fc.oneof(fc.constantFrom(...NAME_POOL), fc.constantFrom(...KEYWORDS)), tie('value'), { maxKeys: 5 }),
  }))
  .object.map((data) => JSON.parse(JSON.stringify(data)) as unknown);
const anyDataArb = fc.oneof(
  dataArb,
  fc.jsonValue().map((value) => JSON.parse(JSON.stringify(value)) as unknown),
);

/** Parses `text`; returns the predicate, or undefined after checking the refusal is an invalid_filter HeraldError. */
function parseOrRefusal(text: unknown): ((data: unknown) => boolean) | undefined {
  try {
    return parseFilter(text);
  } catch (error) {
    assert.ok(error instanceof HeraldError, `threw a non-HeraldError: ${String(error)}`);
    assert.equal(error.code, 'invalid_filter');
    return undefined;
  }
}

describe('filter properties', () => {
  it('a printed filter parses and evaluates like the reference evaluator', () => {
    checkProperty(
      fc.property(printedArb, fc.array(anyDataArb, { minLength: 1, maxLength: 6 }), ([filter, text], samples) => {
        fc.pre(text.length <= MAX_FILTER_LENGTH);
        const predicate = parseFilter(text);
        for (const data of samples) {
          assert.equal(predicate(data), referenceEvaluate(filter, data), `${JSON.stringify(text)} on ${JSON.stringify(data)}`);
        }
      }),
      600,
    );
  });

  it('a printed filter with or, not and parentheses evaluates like the reference evaluator', () => {
    checkProperty(
      fc.property(printedTreeArb, fc.array(anyDataArb, { minLength: 1, maxLength: 6 }), ([tree, text], samples) => {
        fc.pre(text.length <= MAX_FILTER_LENGTH);
        const predicate = parseFilter(text);
        for (const data of samples) assert.equal(predicate(data), referenceTree(tree, data), `${JSON.stringify(text)} on ${JSON.stringify(data)}`);
      }),
      600,
    );
  });

  it('a filter and its negation never agree', () => {
    checkProperty(
      fc.property(printedTreeArb, anyDataArb, ([, text], data) => {
        fc.pre(text.length + 6 <= MAX_FILTER_LENGTH);
        assert.notEqual(parseFilter(`not (${text})`)(data), parseFilter(text)(data));
      }),
      300,
    );
  });

  it('more than 20 comparisons, or more than 1,024 characters, are refused with invalid_filter', () => {
    checkProperty(
      fc.property(fc.integer({ min: 21, max: 30 }), fc.integer({ min: MAX_FILTER_LENGTH + 1, max: MAX_FILTER_LENGTH + 50 }), (clauses, length) => {
        const many = Array.from({ length: clauses }, (_, i) => `f${i} = ${i}`).join(' and ');
        assert.equal(parseOrRefusal(many), undefined, 'too many comparisons');
        const long = `a = '${'x'.repeat(length - 6)}'`;
        assert.equal(long.length, length);
        assert.equal(parseOrRefusal(long), undefined, 'too long');
      }),
      50,
    );
  });

  it('uppercase keywords are refused', () => {
    checkProperty(
      fc.property(printedTreeArb, fc.constantFrom('OR', 'Or', 'NOT', 'Not', 'AND'), ([, text], keyword) => {
        const word = keyword.toLowerCase();
        const pattern = new RegExp(`(^|[\\s(])${word}([\\s(])`);
        fc.pre(pattern.test(text) && text.length <= MAX_FILTER_LENGTH);
        const shouted = text.replace(pattern, `$1${keyword}$2`);
        assert.equal(parseOrRefusal(shouted), undefined, shouted);
      }),
      200,
    );
    checkProperty(
      fc.property(printedArb, fc.constantFrom('AND', 'And', 'aNd'), ([filter, text], keyword) => {
        fc.pre(filter.length > 1 && text.length <= MAX_FILTER_LENGTH);
        const shouted = text.replace(/(\s)and(\s)/, `$1${keyword}$2`);
        assert.equal(parseOrRefusal(shouted), undefined, shouted);
      }),
      200,
    );
  });

  it('any input either parses into a total boolean predicate or is refused with invalid_filter', () => {
    const mutatedArb = printedArb.chain(([, text]) =>
      fc
        .tuple(
          fc.nat(text.length),
          fc.nat(4),
          fc.string({ unit: fc.constantFrom("'", '(', ')', ',', '=', '<', '!', '-', '.', 'e', '9', ' ', 'a', '\0', '\u0085', '😀', '\\'), maxLength: 3 }),
        )
        .map(([at, cut, insert]) => text.slice(0, at) + insert + text.slice(at + cut)),
    );
    const inputArb = fc.oneof(
      mutatedArb,
      fc.string({ maxLength: 40 }),
      fc.string({
        unit: fc.constantFrom('a', ' ', '=', "'", '(', ')', ',', 'in', 'and', 'or', 'not', '1', '.', 'e', '-', 'null', '<', '>', '!'),
        maxLength: 20,
      }),
      fc.stringMatching(/^[a-z]{1,3} ?(=|<=|>=|!=|<|>) ?-?[0-9]{1,400}(\.[0-9]{0,3})?(e[0-9]{1,4})?$/),
      fc.anything().filter((value) => typeof value !== 'string'),
    );
    checkProperty(
      fc.property(inputArb, fc.array(fc.oneof(anyDataArb, fc.anything()), { maxLength: 3 }), (input, samples) => {
        const predicate = parseOrRefusal(input);
        if (predicate === undefined) return;
        for (const data of samples) assert.equal(typeof predicate(data), 'boolean', 'the predicate answers a boolean');
      }),
      1500,
    );
  });
});
