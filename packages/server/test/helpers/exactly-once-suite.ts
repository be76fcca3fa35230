/**
 * The two tests every source bridged on several nodes must pass (`--redis-bridge`,
 * `--pg-listen`): each message becomes exactly one event, with the same id on every
 * node, and when the lease holder dies the survivor takes over with nothing twice.
 * Each source's test file supplies how to start its pair of nodes and send a message.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bridged, flush, leaseHolderPid, sendUntilReceived, waitForBridged, type BridgeNodes } from './bridge-nodes.js';

/** A pair of nodes bridging one source into `topic`, and how to feed that source. */
export interface BridgedPair extends BridgeNodes {
  prefix: string;
  /** The lease name the nodes compete for. */
  lease: string;
  send(message: unknown): Promise<void>;
  tearDown(): Promise<void>;
}

/** How one source is named in the tests' titles and messages. */
export interface SourceWords {
  /** Title of the suite. */
  suite: string;
  /** The source's own command, e.g. `PUBLISH`. */
  command: string;
  /** What one unit of the source is called, e.g. `message`. */
  unit: string;
  /** What the survivor does, e.g. `bridges`. */
  verb: string;
  /** The `type` of the first test's events, e.g. `create`. */
  eventType: string;
}

export function describeExactlyOnce(words: SourceWords, skip: string | false, topic: string, setUp: () => Promise<BridgedPair>): void {
  describe(words.suite, { skip }, () => {
    it(`one ${words.command} becomes exactly one event with one id on both nodes; 20 more stay 20, in order`, { timeout: 30_000 }, async () => {
      const { nodes, subscribers, send, tearDown } = await setUp();
      try {
        await send({ type: words.eventType, data: { id: 1 } });
        for (const subscriber of subscribers) await subscriber.inbox.waitForEvents(1);
        await flush(nodes, subscribers, topic);
        const [first, second] = subscribers.map((subscriber) => bridged(subscriber));
        assert.equal(first!.length, 1, 'one event on the first node');
        assert.deepEqual(
          second!.map((e) => e['id']),
          first!.map((e) => e['id']),
          'the same single event on the second node',
        );
        assert.deepEqual([first![0]!['type'], first![0]!['data']], [words.eventType, { id: 1 }]);

        for (let n = 2; n <= 21; n++) await send({ type: words.eventType, data: { id: n } });
        for (const subscriber of subscribers) await subscriber.inbox.waitForEvents(21 + 2);
        await flush(nodes, subscribers, topic);
        for (const subscriber of subscribers) {
          const events = bridged(subscriber);
          assert.deepEqual(
            events.map((e) => e['data']['id']),
            Array.from({ length: 21 }, (_, i) => i + 1),
            `each ${words.unit} once, in order`,
          );
          assert.equal(new Set(events.map((e) => e['id'])).size, 21);
        }
        assert.deepEqual(
          bridged(subscribers[1]!).map((e) => e['id']),
          bridged(subscribers[0]!).map((e) => e['id']),
          'same ids on both nodes',
        );
      } finally {
        await tearDown();
      }
    });

    it(`after the holder is killed (SIGKILL), the survivor ${words.verb} within seconds, each ${words.unit} once`, { timeout: 30_000 }, async () => {
      const { nodes, subscribers, prefix, lease, send, tearDown } = await setUp();
      try {
        const holderPid = await leaseHolderPid(prefix, lease);
        const holder = nodes.findIndex((node) => node.child.pid === holderPid);
        assert.notEqual(holder, -1, `one of the nodes holds ${lease}`);
        const survivor = 1 - holder;
        await send({ type: 'before', data: { n: 0 } });
        await subscribers[survivor]!.inbox.waitForEvents(1);

        nodes[holder]!.child.kill('SIGKILL');
        await nodes[holder]!.exited;
        // Messages sent before the survivor takes over are lost (neither pub/sub nor NOTIFY keeps anything);
        // poll until one gets through.
        const sent = await sendUntilReceived((n) => send({ type: 'tick', data: { n } }), subscribers[survivor]!, 10_000);
        await send({ type: 'after', data: { n: sent + 1 } });
        await waitForBridged(subscribers[survivor]!, 'after');
        await flush(nodes, [subscribers[survivor]!], topic);

        const events = bridged(subscribers[survivor]!);
        const numbers = events.map((e) => e['data']['n'] as number);
        assert.deepEqual(
          numbers,
          [...numbers].sort((a, b) => a - b),
          'in order',
        );
        assert.equal(new Set(numbers).size, numbers.length, `no ${words.unit} twice`);
        assert.deepEqual([events[0]!['type'], events.at(-1)!['type']], ['before', 'after']);
        assert.equal(await leaseHolderPid(prefix, lease), nodes[survivor]!.child.pid, 'the survivor holds the lease now');
      } finally {
        await tearDown();
      }
    });
  });
}
