import { HeraldError } from './errors.js';

/** Longest topic or pattern, in characters. */
export const MAX_TOPIC_LENGTH = 255;

// Letters, digits and -_.~:@=+ only: no '/', no whitespace, nothing that needs
// escaping in a URL path segment or could break an SSE line.
const SEGMENT = /^[A-Za-z0-9\-_.~:@=+]+$/;

function checkShape(value: unknown, what: string): string[] {
  if (typeof value !== 'string') throw new HeraldError('invalid_topic', `${what} must be a string`);
  if (value.length === 0) throw new HeraldError('invalid_topic', `${what} must not be empty`);
  if (value.length > MAX_TOPIC_LENGTH) {
    throw new HeraldError('invalid_topic', `${what} is longer than ${MAX_TOPIC_LENGTH} characters`);
  }
  return value.split('/');
}

function checkSegment(segment: string, value: string): void {
  if (segment === '') throw new HeraldError('invalid_topic', `topic "${printable(value)}" has an empty segment`);
  if (segment === '.' || segment === '..') {
    throw new HeraldError('invalid_topic', `topic "${printable(value)}" has a "${segment}" segment`);
  }
  if (!SEGMENT.test(segment)) {
    throw new HeraldError('invalid_topic', `topic "${printable(value)}" has a segment with a character outside letters, digits and -_.~:@=+`);
  }
}

/** Throws `invalid_topic` unless `value` is a concrete topic a publisher may publish to (no wildcards). */
export function assertTopic(value: unknown): asserts value is string {
  const segments = checkShape(value, 'topic');
  for (const segment of segments) {
    if (segment === '*' || segment === '**') {
      throw new HeraldError('invalid_topic', `topic "${printable(value as string)}" has a wildcard; publishes need a concrete topic`);
    }
    checkSegment(segment, value as string);
  }
}

/**
 * Throws `invalid_topic` unless `value` is a valid subscription pattern: a topic whose
 * segments may be `*` (exactly one segment) and whose last segment may be `**`
 * (zero or more segments).
 */
export function assertTopicPattern(value: unknown): asserts value is string {
  const segments = checkShape(value, 'topic pattern');
  segments.forEach((segment, index) => {
    if (segment === '*') return;
    if (segment === '**') {
      if (index !== segments.length - 1) {
        throw new HeraldError('invalid_topic', `topic pattern "${printable(value as string)}" uses ** before its last segment`);
      }
      return;
    }
    checkSegment(segment, value as string);
  });
}

/**
 * True when `value` is a valid concrete topic (one a publisher may use). Neither
 * the hub nor the client calls it (they throw with {@link assertTopic}); it is
 * deliberate API for embedders that check a topic without catching, the
 * counterpart of {@link isTopicPattern}.
 */
export function isTopic(value: unknown): value is string {
  try {
    assertTopic(value);
    return true;
  } catch {
    return false;
  }
}

/** True when `value` is a valid subscription pattern. */
export function isTopicPattern(value: unknown): value is string {
  try {
    assertTopicPattern(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * True when the pattern contains `*` or `**`. Deliberate API for embedders (for
 * example, to tell a fixed topic from a pattern before matching); the hub and
 * the client do not need it.
 */
export function hasWildcard(pattern: string): boolean {
  return pattern.split('/').some((s) => s === '*' || s === '**');
}

/**
 * Whether a valid pattern matches a valid concrete topic. `*` matches exactly one
 * segment; a final `**` matches the rest of the topic, zero or more segments, so
 * `a/**` matches `a`, `a/b` and `a/b/c`.
 */
export function matchTopic(pattern: string, topic: string): boolean {
  if (pattern === topic) return true;
  const p = pattern.split('/');
  const t = topic.split('/');
  for (let i = 0; i < p.length; i++) {
    const segment = p[i];
    if (segment === '**') return true;
    if (i >= t.length) return false;
    if (segment !== '*' && segment !== t[i]) return false;
  }
  return p.length === t.length;
}

// Error messages echo user input; keep them to one printable line.
function printable(value: string): string {
  const clipped = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return clipped.replace(/[^\x20-\x7e]/g, '?');
}
