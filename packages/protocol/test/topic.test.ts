import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertTopic, assertTopicPattern, hasWildcard, HeraldError, isTopic, isTopicPattern, matchTopic, MAX_TOPIC_LENGTH } from '../src/index.js';

/** Asserts that `fn` throws a HeraldError with code invalid_topic. */
function throwsInvalidTopic(fn: () => void, label: string): void {
  assert.throws(fn, (error: unknown) => error instanceof HeraldError && error.code === 'invalid_topic', `expected invalid_topic for ${label}`);
}

const VALID_TOPICS: readonly string[] = [
  'a',
  'board/1',
  'a/b/c/d/e',
  'orders/42/created',
  'ABC/xyz/0123456789',
  'x-y_z.w~v:u@t=s+r',
  '-/_/~/:/@/=/+',
  'a.b',
  '...',
  '.a',
  'a.',
  'a..b',
  'user@example.com',
  'k=v',
  'x'.repeat(MAX_TOPIC_LENGTH),
  `${'a/'.repeat(127)}b`, // 255 characters of segments
];

const INVALID_TOPICS: ReadonlyArray<[label: string, value: unknown]> = [
  ['empty', ''],
  ['empty middle segment', 'a//b'],
  ['leading slash', '/a'],
  ['trailing slash', 'a/'],
  ['lone slash', '/'],
  ['two slashes', '//'],
  ['dot segment', 'a/./b'],
  ['dot-dot segment', 'a/../b'],
  ['dot alone', '.'],
  ['dot-dot alone', '..'],
  ['leading dot-dot', '../a'],
  ['trailing dot', 'a/.'],
  ['space', 'a b'],
  ['leading space', ' a'],
  ['trailing space', 'a '],
  ['tab', 'a\tb'],
  ['CR', 'a\rb'],
  ['LF', 'a\nb'],
  ['CRLF', 'a\r\nb'],
  ['NUL', 'a\0b'],
  ['unicode letter', 'caf\u00e9'],
  ['emoji', 'chat/\u{1F600}'],
  ['line separator', 'a\u2028b'],
  ['question mark', 'a?b'],
  ['hash', 'a#b'],
  ['percent', 'a%20b'],
  ['ampersand', 'a&b'],
  ['comma', 'a,b'],
  ['semicolon', 'a;b'],
  ['backslash', 'a\\b'],
  ['quote', 'a"b'],
  ['apostrophe', "a'b"],
  ['angle bracket', 'a<b'],
  ['bracket', 'a[0]'],
  ['brace', 'a{b}'],
  ['dollar', 'a$b'],
  ['exclamation', 'a!b'],
  ['pipe', 'a|b'],
  ['caret', 'a^b'],
  ['backtick', 'a`b'],
  ['256 characters', 'x'.repeat(MAX_TOPIC_LENGTH + 1)],
  ['256 characters with segments', `${'a/'.repeat(127)}bc`],
  ['number', 42],
  ['null', null],
  ['undefined', undefined],
  ['array', ['a']],
  ['object', { topic: 'a' }],
];

describe('topic validation', () => {
  it('has a 255-character limit', () => {
    assert.equal(MAX_TOPIC_LENGTH, 255);
    assert.equal(`${'a/'.repeat(127)}b`.length, 255);
    assert.equal(`${'a/'.repeat(127)}bc`.length, 256);
  });

  for (const topic of VALID_TOPICS) {
    it(`accepts ${JSON.stringify(topic.length > 40 ? `${topic.slice(0, 20)}…(${topic.length})` : topic)} as topic and pattern`, () => {
      assert.doesNotThrow(() => assertTopic(topic));
      assert.doesNotThrow(() => assertTopicPattern(topic));
      assert.equal(isTopic(topic), true);
      assert.equal(isTopicPattern(topic), true);
      assert.equal(hasWildcard(topic), false);
    });
  }

  for (const [label, value] of INVALID_TOPICS) {
    it(`rejects ${label} as topic and as pattern`, () => {
      throwsInvalidTopic(() => assertTopic(value), `topic ${label}`);
      throwsInvalidTopic(() => assertTopicPattern(value), `pattern ${label}`);
      assert.equal(isTopic(value), false);
      assert.equal(isTopicPattern(value), false);
    });
  }

  it('keeps error messages on one printable line even for hostile input', () => {
    for (const value of ['a\r\nevent: x', 'a\0b', 'caf\u00e9/ /x', `${'y'.repeat(200)} z`]) {
      try {
        assertTopic(value);
        assert.fail(`expected ${JSON.stringify(value)} to be rejected`);
      } catch (error) {
        assert.ok(error instanceof HeraldError);
        assert.match(error.message, /^[\x20-\x7e\u2026]*$/, `message for ${JSON.stringify(value)}: ${JSON.stringify(error.message)}`);
        assert.ok(error.message.length < 200, 'long input is clipped');
      }
    }
  });
});

describe('wildcards', () => {
  const PATTERNS: readonly string[] = ['*', '**', 'a/*', 'a/**', '*/b', '*/*', 'a/*/c', 'a/*/**', '*/**', '*/b/**', 'a/b/c/**'];

  for (const pattern of PATTERNS) {
    it(`${pattern}: rejected by assertTopic, accepted by assertTopicPattern`, () => {
      throwsInvalidTopic(() => assertTopic(pattern), pattern);
      assert.equal(isTopic(pattern), false);
      assert.doesNotThrow(() => assertTopicPattern(pattern));
      assert.equal(isTopicPattern(pattern), true);
      assert.equal(hasWildcard(pattern), true);
    });
  }

  const BAD_PATTERNS: ReadonlyArray<[label: string, pattern: string]> = [
    ['** first of two', '**/a'],
    ['** in the middle', 'a/**/b'],
    ['** twice', '**/**'],
    ['** before *', 'a/**/*'],
    ['partial * in a segment', 'a*'],
    ['partial * after a letter', 'a/b*'],
    ['*** segment', 'a/***'],
    ['partial ** in a segment', 'a/**b'],
    ['empty segment next to *', '*//a'],
    ['trailing slash after **', 'a/**/'],
    ['leading slash before *', '/*'],
    ['dot-dot with *', '../*'],
    ['space with **', 'a b/**'],
  ];

  for (const [label, pattern] of BAD_PATTERNS) {
    it(`rejects ${label} (${JSON.stringify(pattern)})`, () => {
      throwsInvalidTopic(() => assertTopicPattern(pattern), pattern);
      throwsInvalidTopic(() => assertTopic(pattern), pattern);
    });
  }

  it('does not treat * inside a segment as a wildcard', () => {
    assert.equal(hasWildcard('a*'), false);
    assert.equal(hasWildcard('a/**b'), false);
    assert.equal(hasWildcard('a/b'), false);
  });
});

describe('matchTopic', () => {
  const TABLE: ReadonlyArray<[pattern: string, topic: string, expected: boolean]> = [
    // exact
    ['a', 'a', true],
    ['a/b', 'a/b', true],
    ['a/b', 'a/c', false],
    ['a/b', 'a', false],
    ['a', 'a/b', false],
    ['a/b', 'a/b/c', false],
    ['ab', 'a', false],
    ['a', 'ab', false],
    ['a/b', 'a/bc', false],
    ['A', 'a', false],
    // a/**
    ['a/**', 'a', true],
    ['a/**', 'a/b', true],
    ['a/**', 'a/b/c', true],
    ['a/**', 'a/b/c/d/e/f', true],
    ['a/**', 'b', false],
    ['a/**', 'b/a', false],
    ['a/**', 'ab', false],
    ['a/**', 'ab/c', false],
    // a/*
    ['a/*', 'a/b', true],
    ['a/*', 'a/zzz', true],
    ['a/*', 'a', false],
    ['a/*', 'a/b/c', false],
    ['a/*', 'b/a', false],
    // */b
    ['*/b', 'a/b', true],
    ['*/b', 'x/b', true],
    ['*/b', 'b', false],
    ['*/b', 'a/c', false],
    ['*/b', 'a/b/c', false],
    ['*/b', 'a/x/b', false],
    // * alone
    ['*', 'a', true],
    ['*', 'a/b', false],
    // ** alone
    ['**', 'a', true],
    ['**', 'a/b', true],
    ['**', 'a/b/c/d', true],
    // mixed
    ['*/*', 'a/b', true],
    ['*/*', 'a', false],
    ['*/*', 'a/b/c', false],
    ['a/*/c', 'a/b/c', true],
    ['a/*/c', 'a/b/d', false],
    ['a/*/c', 'a/c', false],
    ['a/*/**', 'a/b', true],
    ['a/*/**', 'a/b/c/d', true],
    ['a/*/**', 'a', false],
    ['*/**', 'a', true],
    ['*/**', 'a/b/c', true],
    ['*/b/**', 'a/b', true],
    ['*/b/**', 'a/b/c', true],
    ['*/b/**', 'a/c/b', false],
    ['a/b/c/**', 'a/b', false],
    ['a/b/c/**', 'a/b/c', true],
    ['a/b/c/**', 'a/b/c/d', true],
  ];

  for (const [pattern, topic, expected] of TABLE) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${topic}`, () => {
      assert.equal(matchTopic(pattern, topic), expected);
    });
  }

  it('uses only valid patterns and topics in its table', () => {
    for (const [pattern, topic] of TABLE) {
      assert.equal(isTopicPattern(pattern), true, pattern);
      assert.equal(isTopic(topic), true, topic);
    }
  });
});
