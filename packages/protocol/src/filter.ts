import { HeraldError } from './errors.js';

/**
 * Subscription filters over an event's `data`, for views such as
 * `session_id = 'abc' and (resolved = false or level = 'high')`:
 *
 *     filter     := disjunct ( "or" disjunct )*
 *     disjunct   := term ( "and" term )*
 *     term       := "not" term | "(" filter ")" | comparison
 *     comparison := path op value | path "in" "(" value ( "," value )* ")"
 *     path       := name ( "." name )*          name: letters, digits, _ (not first: digit)
 *     op         := "=" | "!=" | "<" | "<=" | ">" | ">="
 *     value      := 'text' (with '' for a quote) | number | true | false | null
 *
 * `not` binds tightest, then `and`, then `or`. Keywords are lowercase. A field
 * may still be called `not` or `or` (as before they were keywords): a name
 * followed by an operator or `in` is always a field.
 *
 * Parsed by hand into a predicate (no eval): equality is exact JSON equality;
 * `<` and friends compare numbers with numbers and strings with strings, and are
 * false otherwise; a missing field equals only `null`.
 */
export type EventFilter = (data: unknown) => boolean;

/** Longest filter, in characters. */
export const MAX_FILTER_LENGTH = 1024;
const MAX_CLAUSES = 20;
// Nested parentheses and `not`s, bounded so a hostile filter cannot exhaust the stack.
const MAX_DEPTH = 32;

type Scalar = string | number | boolean | null;
type Token = { kind: 'name' | 'op' | 'value' | 'punct'; text: string; value?: Scalar };

const TOKEN =
  /\s*(?:(?<string>'(?:[^']|'')*')|(?<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?<op><=|>=|!=|=|<|>)|(?<punct>[(),])|(?<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*))/y;

function fail(message: string): never {
  throw new HeraldError('invalid_filter', `filter: ${message}`);
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    TOKEN.lastIndex = at;
    const match = TOKEN.exec(text);
    if (match === null || match.groups === undefined)
      fail(`unexpected character at position ${at + (text.slice(at).length - text.slice(at).trimStart().length) + 1}`);
    at = TOKEN.lastIndex;
    const { string, number, op, punct, name } = match.groups;
    if (string !== undefined) tokens.push({ kind: 'value', text: string, value: string.slice(1, -1).replaceAll("''", "'") });
    else if (number !== undefined) {
      if (!Number.isFinite(Number(number))) fail(`${number} is out of range`);
      tokens.push({ kind: 'value', text: number, value: Number(number) });
    } else if (op !== undefined) tokens.push({ kind: 'op', text: op });
    else if (punct !== undefined) tokens.push({ kind: 'punct', text: punct });
    else if (name === 'true' || name === 'false') tokens.push({ kind: 'value', text: name, value: name === 'true' });
    else if (name === 'null') tokens.push({ kind: 'value', text: name, value: null });
    else tokens.push({ kind: 'name', text: name! });
  }
  return tokens;
}

function lookup(data: unknown, path: readonly string[]): unknown {
  let current = data;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current) || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function equal(field: unknown, value: Scalar): boolean {
  return field === undefined ? value === null : field === value;
}

function compare(op: string, field: unknown, value: Scalar): boolean {
  switch (op) {
    case '=':
      return equal(field, value);
    case '!=':
      return !equal(field, value);
  }
  const comparable = (typeof field === 'number' && typeof value === 'number') || (typeof field === 'string' && typeof value === 'string');
  if (!comparable) return false;
  const a = field as number | string;
  const b = value as number | string;
  return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
}

/** A recursive-descent reader over the tokens of one filter. */
class FilterReader {
  readonly #tokens: readonly Token[];
  #at = 0;
  #clauses = 0;
  #depth = 0;

  constructor(tokens: readonly Token[]) {
    this.#tokens = tokens;
  }

  /** The whole filter: one expression, then nothing. */
  read(): EventFilter {
    const filter = this.#disjunction();
    const rest = this.#peek();
    if (rest !== undefined) fail(`expected "and" or "or" at "${rest.text}"`);
    return filter;
  }

  #peek(offset = 0): Token | undefined {
    return this.#tokens[this.#at + offset];
  }

  #next(): Token | undefined {
    return this.#tokens[this.#at++];
  }

  #isKeyword(token: Token | undefined, word: string): boolean {
    return token?.kind === 'name' && token.text === word;
  }

  // A name followed by an operator or `in` starts a comparison, whatever it is called.
  #startsComparison(): boolean {
    const after = this.#peek(1);
    return after?.kind === 'op' || this.#isKeyword(after, 'in');
  }

  #disjunction(): EventFilter {
    const parts = [this.#conjunction()];
    while (this.#isKeyword(this.#peek(), 'or')) {
      this.#next();
      parts.push(this.#conjunction());
    }
    return parts.length === 1 ? parts[0]! : (data) => parts.some((part) => part(data));
  }

  #conjunction(): EventFilter {
    const parts = [this.#term()];
    while (this.#isKeyword(this.#peek(), 'and')) {
      this.#next();
      parts.push(this.#term());
    }
    return parts.length === 1 ? parts[0]! : (data) => parts.every((part) => part(data));
  }

  #term(): EventFilter {
    const token = this.#peek();
    const opens = token?.text === '(' && token.kind === 'punct';
    const negates = this.#isKeyword(token, 'not') && !this.#startsComparison();
    if (!opens && !negates) return this.#comparison();
    if (++this.#depth > MAX_DEPTH) fail(`nests deeper than ${MAX_DEPTH} levels`);
    this.#next();
    let filter: EventFilter;
    if (negates) {
      const inner = this.#term();
      filter = (data) => !inner(data);
    } else {
      filter = this.#disjunction();
      const close = this.#next();
      if (close?.text !== ')') fail(`expected )${close ? ` at "${close.text}"` : ' at the end'}`);
    }
    this.#depth--;
    return filter;
  }

  #comparison(): EventFilter {
    const field = this.#next();
    if (field?.kind !== 'name' || field.text === 'and' || field.text === 'in') fail(`expected a field name${field ? ` at "${field.text}"` : ' at the end'}`);
    if (++this.#clauses > MAX_CLAUSES) fail(`has more than ${MAX_CLAUSES} comparisons`);
    const path = field.text.split('.');
    const operator = this.#next();
    if (operator?.kind === 'name' && operator.text === 'in') {
      const values = this.#list();
      return (data) => {
        const actual = lookup(data, path);
        return values.some((value) => equal(actual, value));
      };
    }
    if (operator?.kind !== 'op') fail(`expected an operator after ${field.text}`);
    const value = this.#next();
    if (value?.kind !== 'value') fail(`expected a value after ${field.text} ${operator.text}`);
    const op = operator.text;
    const expected = value.value!;
    return (data) => compare(op, lookup(data, path), expected);
  }

  #list(): Scalar[] {
    if (this.#next()?.text !== '(') fail('expected ( after in');
    const values: Scalar[] = [];
    for (;;) {
      const value = this.#next();
      if (value?.kind !== 'value') fail('expected a value in the in list');
      values.push(value.value!);
      const separator = this.#next();
      if (separator?.text === ')') return values;
      if (separator?.text !== ',') fail('expected , or ) in the in list');
    }
  }
}

/** Parses a filter; throws `invalid_filter` with the reason. */
export function parseFilter(text: unknown): EventFilter {
  if (typeof text !== 'string' || text.trim() === '') fail('must be a non-empty string');
  if (text.length > MAX_FILTER_LENGTH) fail(`is longer than ${MAX_FILTER_LENGTH} characters`);
  // Tab and newlines separate tokens; any other control character has no business in a filter.
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) fail('contains a control character');
  return new FilterReader(tokenize(text)).read();
}
