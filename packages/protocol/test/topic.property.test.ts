import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { assertTopic, assertTopicPattern, hasWildcard, HeraldError, isTopic, isTopicPattern, matchTopic, MAX_TOPIC_LENGTH } from '../src/index.js';
import { checkProperty } from './property.js';

// Reference model written from docs/protocol.md section 2, independent of src/topic.ts.
const SEGMENT_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~:@=+';

/** [spec §2] A segment: not empty, not `.` or `..`, only the listed characters. */
function referenceSegment(segment: string): boolean {
  if (segment === '' || segment === '.' || segment === '..') return false;
  return [...segment].every((char) => SEGMENT_CHARS.includes(char));
}

/** [spec §2] 1 to 255 characters of segments separated by `/`; a pattern may use `*` anywhere and `**` last. */
function referenceValid(value: string, pattern: boolean): boolean {
  if (value.length < 1 || value.length > 255) return false;
  const segments = value.split('/');
  return segments.every((segment, index) => {
    if (pattern && segment === '*') return true;
    if (pattern && segment === '**') return index === segments.length - 1;
    return referenceSegment(segment);
  });
}

/** [spec §2] `*` matches exactly one segment, a last `**` zero or more; anything else matches itself. */
function referenceMatch(pattern: readonly string[], topic: readonly string[]): boolean {
  if (pattern.length === 0) return topic.length === 0;
  const [head, ...rest] = pattern;
  if (head === '**' && rest.length === 0) return true;
  if (topic.length === 0) return false;
  return (head === '*' || head === topic[0]) && referenceMatch(rest, topic.slice(1));
}

const segmentArb = fc.string({ unit: fc.constantFrom(...SEGMENT_CHARS), minLength: 1, maxLength: 6 }).filter((segment) => segment !== '.' && segment !== '..');
/** Few distinct segments, so that patterns and topics share segments often. */
const commonSegmentArb = fc.constantFrom('a', 'b', 'orders', '42', 'x.y', '~');
const anySegmentArb = fc.oneof(segmentArb, commonSegmentArb);
const topicSegmentsArb = fc.array(anySegmentArb, { minLength: 1, maxLength: 6 });
const topicArb = topicSegmentsArb.map((segments) => segments.join('/'));
const patternSegmentsArb = fc
  .tuple(fc.array(fc.oneof(anySegmentArb, fc.constant('*')), { minLength: 0, maxLength: 5 }), fc.boolean())
  .map(([segments, globstar]) => (globstar ? [...segments, '**'] : segments))
  .filter((segments) => segments.length > 0);

/** A topic the pattern matches by construction: `*` becomes one segment, `**` zero to three. */
const instanceArb = (pattern: readonly string[]): fc.Arbitrary<string[]> =>
  fc
    .tuple(
      ...pattern.map((segment) =>
        segment === '*' ? anySegmentArb.map((s) => [s]) : segment === '**' ? fc.array(anySegmentArb, { maxLength: 3 }) : fc.constant([segment]),
      ),
    )
    .map((parts) => parts.flat());

/** Strings near the grammar's edges: separators, wildcards, dots, spaces, controls, non-ASCII, percent signs. */
const nearTopicArb = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'B', '7', '/', '*', '.', '-', ' ', '+', '%', '\n', '\r', '\0', 'é', '😀', '#', '?'), maxLength: 20 }),
  fc.string({ unit: fc.constantFrom('a', '/'), minLength: 250, maxLength: 260 }),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
);

/** Runs `fn`; returns true if it returned, false if it threw an invalid_topic HeraldError, and fails on any other exception. */
function acceptedOrInvalidTopic(fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (error) {
    assert.ok(error instanceof HeraldError, `threw a non-HeraldError: ${String(error)}`);
    assert.equal(error.code, 'invalid_topic');
    assert.match(error.message, /^[\x20-\x7e…]*$/, 'error messages echo input as one printable line');
    return false;
  }
}

describe('topic properties', () => {
  it('every concrete topic is a valid topic and pattern and matches itself', () => {
    checkProperty(
      fc.property(topicArb, (topic) => {
        fc.pre(topic.length <= MAX_TOPIC_LENGTH);
        assert.ok(isTopic(topic), 'isTopic');
        assert.ok(isTopicPattern(topic), 'isTopicPattern');
        assert.equal(hasWildcard(topic), false);
        assert.ok(matchTopic(topic, topic), 'matches itself');
      }),
      500,
    );
  });

  it('prefix/** matches the prefix and every topic under it, and ** matches every topic', () => {
    checkProperty(
      fc.property(topicSegmentsArb, fc.array(anySegmentArb, { maxLength: 4 }), (prefix, rest) => {
        const topic = [...prefix, ...rest].join('/');
        fc.pre(topic.length <= MAX_TOPIC_LENGTH);
        assert.ok(matchTopic(`${prefix.join('/')}/**`, topic), 'prefix/**');
        assert.ok(matchTopic('**', topic), '**');
        assert.ok(matchTopic('*/**', topic), '*/**');
      }),
      500,
    );
  });

  it('prefix/** does not match a topic outside the prefix', () => {
    checkProperty(
      fc.property(topicSegmentsArb, topicSegmentsArb, (prefix, topic) => {
        const inside = prefix.every((segment, i) => topic[i] === segment);
        assert.equal(matchTopic(`${prefix.join('/')}/**`, topic.join('/')), inside);
      }),
      500,
    );
  });

  it('matchTopic agrees with the reference matcher on instances of the pattern and their mutations', () => {
    const caseArb = patternSegmentsArb.chain((pattern) =>
      fc.tuple(
        fc.constant(pattern),
        fc.oneof(
          instanceArb(pattern),
          topicSegmentsArb,
          instanceArb(pattern).chain((t) => mutateSegments(t)),
        ),
      ),
    );
    checkProperty(
      fc.property(caseArb, ([pattern, topic]) => {
        const patternText = pattern.join('/');
        const topicText = topic.join('/');
        fc.pre(topic.length > 0 && patternText.length <= MAX_TOPIC_LENGTH && topicText.length <= MAX_TOPIC_LENGTH);
        assert.ok(isTopicPattern(patternText), patternText);
        assert.ok(isTopic(topicText), topicText);
        assert.equal(matchTopic(patternText, topicText), referenceMatch(pattern, topic), `${patternText} vs ${topicText}`);
      }),
      1000,
    );
  });

  it('validation agrees with the documented grammar, and refuses only with invalid_topic', () => {
    checkProperty(
      fc.property(
        fc.oneof(
          nearTopicArb,
          topicArb,
          patternSegmentsArb.map((s) => s.join('/')),
        ),
        (value) => {
          assert.equal(
            acceptedOrInvalidTopic(() => assertTopic(value)),
            referenceValid(value, false),
            `topic ${JSON.stringify(value)}`,
          );
          assert.equal(
            acceptedOrInvalidTopic(() => assertTopicPattern(value)),
            referenceValid(value, true),
            `pattern ${JSON.stringify(value)}`,
          );
          assert.equal(isTopic(value), referenceValid(value, false));
          assert.equal(isTopicPattern(value), referenceValid(value, true));
          if (referenceValid(value, true)) {
            assert.equal(
              hasWildcard(value),
              value.split('/').some((s) => s === '*' || s === '**'),
            );
          }
        },
      ),
      2000,
    );
  });

  it('values that are not strings are refused with invalid_topic', () => {
    checkProperty(
      fc.property(
        fc.anything().filter((value) => typeof value !== 'string'),
        (value) => {
          assert.equal(
            acceptedOrInvalidTopic(() => assertTopic(value)),
            false,
          );
          assert.equal(
            acceptedOrInvalidTopic(() => assertTopicPattern(value)),
            false,
          );
        },
      ),
      300,
    );
  });
});

/** Changes one segment of a topic (replaced, dropped or added), so near misses get tested. */
function mutateSegments(topic: string[]): fc.Arbitrary<string[]> {
  return fc.tuple(fc.nat(), anySegmentArb, fc.constantFrom('replace', 'drop', 'add')).map(([at, segment, how]) => {
    const copy = [...topic];
    const index = copy.length === 0 ? 0 : at % copy.length;
    if (how === 'replace' && copy.length > 0) copy[index] = segment;
    else if (how === 'drop' && copy.length > 1) copy.splice(index, 1);
    else copy.splice(index, 0, segment);
    return copy;
  });
}
