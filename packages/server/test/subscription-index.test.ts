import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from './helpers/random.js';
import { isTopic, isTopicPattern, matchTopic } from '@herald/protocol';
import { SubscriptionIndex } from '../src/subscription-index.js';

/** Every visit, in order, including repeats. */
function visits<T>(index: SubscriptionIndex<T>, topic: string): T[] {
  const seen: T[] = [];
  index.forEachMatch(topic, (subscriber) => seen.push(subscriber));
  return seen;
}

const sorted = (values: Iterable<string>): string[] => [...values].sort();

describe('SubscriptionIndex: add, remove, size', () => {
  it('starts empty and visits nothing', () => {
    const index = new SubscriptionIndex<string>();
    assert.equal(index.size, 0);
    assert.deepEqual(visits(index, 'a'), []);
    assert.deepEqual(visits(index, 'a/b/c'), []);
  });

  it('add returns true for a new pair and false for a repeat, for exact and wildcard patterns', () => {
    const index = new SubscriptionIndex<string>();
    for (const pattern of ['a/b', 'a/*', 'a/**', '**', '*']) {
      const before = index.size;
      assert.equal(index.add(pattern, 's1'), true, pattern);
      assert.equal(index.add(pattern, 's1'), false, pattern);
      assert.equal(index.size, before + 1, pattern);
      assert.equal(index.add(pattern, 's2'), true, pattern);
      assert.equal(index.size, before + 2, pattern);
    }
    assert.equal(index.size, 10);
  });

  it('remove returns true once and false when the pair is absent', () => {
    const index = new SubscriptionIndex<string>();
    index.add('a/b', 's1');
    index.add('a/*', 's1');
    index.add('a/**', 's1');
    assert.equal(index.size, 3);
    assert.equal(index.remove('a/b', 's2'), false, 'other subscriber');
    assert.equal(index.remove('a/c', 's1'), false, 'other exact pattern');
    assert.equal(index.remove('b/*', 's1'), false, 'other wildcard pattern');
    assert.equal(index.remove('a/*/c', 's1'), false, 'longer wildcard pattern');
    assert.equal(index.remove('*', 's1'), false, 'shorter wildcard pattern');
    assert.equal(index.remove('a', 's1'), false, 'prefix of an exact pattern');
    assert.equal(index.size, 3);
    assert.equal(index.remove('a/b', 's1'), true);
    assert.equal(index.remove('a/b', 's1'), false);
    assert.equal(index.remove('a/*', 's1'), true);
    assert.equal(index.remove('a/*', 's1'), false);
    assert.equal(index.remove('a/**', 's1'), true);
    assert.equal(index.remove('a/**', 's1'), false);
    assert.equal(index.size, 0);
    assert.deepEqual(visits(index, 'a/b'), []);
  });

  it('keeps exact and wildcard patterns apart: a/* is not the exact topic "a/*"', () => {
    const index = new SubscriptionIndex<string>();
    index.add('a/b', 'exact');
    assert.equal(index.remove('a/*', 'exact'), false);
    index.add('a/*', 'wild');
    assert.equal(index.remove('a/b', 'wild'), false);
    assert.equal(index.size, 2);
  });

  it('visits a subscriber once per matching pattern', () => {
    const index = new SubscriptionIndex<string>();
    index.add('a/b', 's');
    index.add('a/*', 's');
    index.add('a/**', 's');
    index.add('**', 's');
    index.add('*/b', 's');
    index.add('a/c', 's');
    assert.deepEqual(visits(index, 'a/b'), ['s', 's', 's', 's', 's']);
    assert.deepEqual(visits(index, 'a/c'), ['s', 's', 's', 's']);
    assert.deepEqual(visits(index, 'a'), ['s', 's']); // a/** and **
    assert.deepEqual(visits(index, 'x'), ['s']); // **
  });

  it('matches wildcard patterns as documented', () => {
    const index = new SubscriptionIndex<string>();
    index.add('a/**', 'a/**');
    index.add('a/*', 'a/*');
    index.add('*/b', '*/b');
    index.add('**', '**');
    index.add('a/b', 'a/b');
    assert.deepEqual(sorted(visits(index, 'a')), ['**', 'a/**']);
    assert.deepEqual(sorted(visits(index, 'a/b')), ['**', '*/b', 'a/*', 'a/**', 'a/b']);
    assert.deepEqual(sorted(visits(index, 'a/b/c')), ['**', 'a/**']);
    assert.deepEqual(sorted(visits(index, 'x/b')), ['**', '*/b']);
    assert.deepEqual(sorted(visits(index, 'b')), ['**']);
  });

  it('still matches remaining patterns after removing one that shared trie nodes', () => {
    const index = new SubscriptionIndex<string>();
    index.add('a/*/c', 'p1');
    index.add('a/*/c/**', 'p2');
    index.add('a/*', 'p3');
    assert.equal(index.remove('a/*/c', 'p1'), true);
    assert.deepEqual(sorted(visits(index, 'a/b/c')), ['p2']);
    assert.deepEqual(sorted(visits(index, 'a/b')), ['p3']);
    assert.equal(index.remove('a/*', 'p3'), true);
    assert.deepEqual(sorted(visits(index, 'a/b/c/d')), ['p2']);
    assert.equal(index.remove('a/*/c/**', 'p2'), true);
    assert.equal(index.size, 0);
    assert.deepEqual(visits(index, 'a/b/c'), []);
    // and the index is reusable afterwards
    assert.equal(index.add('a/*/c', 'p1'), true);
    assert.deepEqual(visits(index, 'a/x/c'), ['p1']);
  });

  it('works with object subscribers by identity', () => {
    const index = new SubscriptionIndex<{ name: string }>();
    const one = { name: 'x' };
    const two = { name: 'x' };
    assert.equal(index.add('t', one), true);
    assert.equal(index.add('t', two), true);
    assert.equal(index.size, 2);
    assert.equal(index.remove('t', { name: 'x' }), false);
    assert.equal(index.remove('t', one), true);
    assert.deepEqual(visits(index, 't'), [two]);
  });
});

const SEGMENTS = ['a', 'b', 'c', 'dd'] as const;

class Gen {
  readonly #random: () => number;
  constructor(seed: number) {
    this.#random = seededRandom(seed);
  }
  int(n: number): number {
    return Math.floor(this.#random() * n);
  }
  pick<T>(values: readonly T[]): T {
    return values[this.int(values.length)]!;
  }
  topic(): string {
    const depth = 1 + this.int(4);
    return Array.from({ length: depth }, () => this.pick(SEGMENTS)).join('/');
  }
  pattern(): string {
    const depth = 1 + this.int(4);
    const segments: string[] = [];
    for (let i = 0; i < depth; i++) {
      const roll = this.int(10);
      if (i === depth - 1 && roll < 2) segments.push('**');
      else if (roll < 5) segments.push('*');
      else segments.push(this.pick(SEGMENTS));
    }
    return segments.join('/');
  }
}

/** All topics of depth 1..maxDepth over SEGMENTS. */
function allTopics(maxDepth: number): string[] {
  let level: string[] = [...SEGMENTS];
  const all = [...level];
  for (let depth = 2; depth <= maxDepth; depth++) {
    level = level.flatMap((prefix) => SEGMENTS.map((s) => `${prefix}/${s}`));
    all.push(...level);
  }
  return all;
}

type Pair = { pattern: string; subscriber: string };
const pairKey = (p: Pair): string => `${p.subscriber}\u0000${p.pattern}`;

/** Checks forEachMatch against a brute-force matchTopic over the live pairs, for every topic. */
function checkAgainstBruteForce(index: SubscriptionIndex<string>, live: readonly Pair[], topics: readonly string[], label: string): void {
  assert.equal(index.size, live.length, `${label}: size`);
  for (const topic of topics) {
    // A subscriber is visited once per matching pattern, so the visits (as a multiset)
    // must equal the subscribers of the matching pairs.
    const expected = live
      .filter((p) => matchTopic(p.pattern, topic))
      .map((p) => p.subscriber)
      .sort();
    assert.deepEqual(visits(index, topic).sort(), expected, `${label}: topic ${topic}`);
  }
}

describe('SubscriptionIndex: seeded property test against matchTopic', () => {
  // Every topic of depth 1 to 5 over the alphabet: deeper than any pattern, so ** is exercised.
  const topics = allTopics(5);

  for (const seed of [1, 2, 3, 42, 20240601]) {
    it(`seed ${seed}: forEachMatch visits exactly the brute-force matches, before and after removing half`, () => {
      const gen = new Gen(seed);
      const index = new SubscriptionIndex<string>();
      const live: Pair[] = [];
      const keys = new Set<string>();
      const subscribers = Array.from({ length: 40 }, (_, i) => `s${i}`);

      for (let i = 0; i < 300; i++) {
        const pattern = gen.pattern();
        assert.equal(isTopicPattern(pattern), true, pattern);
        const subscriber = gen.pick(subscribers);
        const pair = { pattern, subscriber };
        const fresh = !keys.has(pairKey(pair));
        assert.equal(index.add(pattern, subscriber), fresh, `add ${pattern} ${subscriber}`);
        if (fresh) {
          keys.add(pairKey(pair));
          live.push(pair);
        }
      }
      // Plus a few random topics from the generator, which must be among them.
      for (let i = 0; i < 20; i++) {
        const topic = gen.topic();
        assert.equal(isTopic(topic), true, topic);
        assert.ok(topics.includes(topic), topic);
      }
      assert.ok(
        live.some((p) => p.pattern.endsWith('**')),
        'generated some ** patterns',
      );
      assert.ok(
        live.some((p) => p.pattern.includes('*') && !p.pattern.includes('**')),
        'generated some * patterns',
      );
      assert.ok(
        live.some((p) => !p.pattern.includes('*')),
        'generated some exact patterns',
      );
      checkAgainstBruteForce(index, live, topics, 'after adding');

      // Remove a random half (Fisher-Yates shuffle, then take the first half).
      const order = [...live];
      for (let i = order.length - 1; i > 0; i--) {
        const j = gen.int(i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      const removed = order.slice(0, Math.floor(order.length / 2));
      const removedKeys = new Set(removed.map(pairKey));
      for (const pair of removed) {
        assert.equal(index.remove(pair.pattern, pair.subscriber), true, `remove ${pair.pattern} ${pair.subscriber}`);
        assert.equal(index.remove(pair.pattern, pair.subscriber), false, `remove again ${pair.pattern} ${pair.subscriber}`);
      }
      const remaining = live.filter((p) => !removedKeys.has(pairKey(p)));
      checkAgainstBruteForce(index, remaining, topics, 'after removing half');

      // Removing pairs that were never added changes nothing.
      for (let i = 0; i < 100; i++) {
        const pair = { pattern: gen.pattern(), subscriber: `never${i}` };
        assert.equal(index.remove(pair.pattern, pair.subscriber), false);
      }
      assert.equal(index.size, remaining.length);

      // Re-adding the removed half restores the full match sets.
      for (const pair of removed) assert.equal(index.add(pair.pattern, pair.subscriber), true);
      checkAgainstBruteForce(index, live, topics, 'after re-adding');

      // Removing everything empties the index.
      for (const pair of live) assert.equal(index.remove(pair.pattern, pair.subscriber), true);
      assert.equal(index.size, 0);
      for (const topic of topics) assert.deepEqual(visits(index, topic), [], topic);
    });
  }
});
