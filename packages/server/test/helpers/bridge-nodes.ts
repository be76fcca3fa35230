/**
 * Two `herald serve` processes sharing one Redis log and bridging the same source,
 * for the exactly-once bridge tests: start them, find which one holds a bridge's
 * lease, and flush both nodes' subscribers so nothing late can still arrive.
 */
import { Redis } from 'ioredis';
import { openSse, type Message, type SseSubscriber } from './clients.js';
import { publish, sleep, waitUntil } from './hub.js';
import { REDIS_URL } from './redis.js';
import { childEnv, startServe, stopServe, type ServeProcess } from './serve.js';

/** Nodes on one log, each with an SSE subscriber of `topic`. */
export interface BridgeNodes {
  nodes: ServeProcess[];
  subscribers: SseSubscriber[];
  /** Stops every node still running and closes the subscribers. */
  stop(): Promise<void>;
}

/** Starts two nodes with the same `args` (one after the other) and subscribes to `topic` on each. */
export async function startBridgeNodes(args: string[], topic: string): Promise<BridgeNodes> {
  const nodes: ServeProcess[] = [];
  const subscribers: SseSubscriber[] = [];
  const stop = async (): Promise<void> => {
    for (const subscriber of subscribers) subscriber.close();
    await Promise.all(nodes.map((node) => stopServe(node)));
  };
  try {
    for (let i = 0; i < 2; i++) nodes.push(await startServe(args, childEnv()));
    for (const node of nodes) subscribers.push(await openSse(node.url, [topic]));
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes, subscribers, stop };
}

/** The pid in the token of the lease `name` under `prefix` (tokens are `host:pid:random`), or undefined when nobody holds it. */
export async function leaseHolderPid(prefix: string, name: string): Promise<number | undefined> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    const token = await redis.get(`${prefix}lease:${name}`);
    return token === null ? undefined : Number(token.split(':')[1]);
  } finally {
    redis.disconnect();
  }
}

/**
 * Publishes a `flush` event on `topic` through every running node and waits until
 * every subscriber has all of them. Each node appends a bridged message before any
 * publish it takes later, so once the flushes are in, a duplicate that a node
 * had still to append would have arrived too.
 */
export async function flush(nodes: readonly ServeProcess[], subscribers: readonly SseSubscriber[], topic: string): Promise<void> {
  const running = nodes.filter((node) => node.child.exitCode === null && node.child.signalCode === null);
  const ids = new Set<string>();
  for (const node of running) {
    for (const id of (await publish(node.url, { topic, type: 'flush', data: node.url })).body.ids as string[]) ids.add(id);
  }
  for (const subscriber of subscribers) {
    await waitUntil(() => [...ids].every((id) => subscriber.inbox.events.some((e) => e['id'] === id)), 'the flush events');
  }
}

/** The events a subscriber got that came through the bridge (everything but `flush`). */
export function bridged(subscriber: SseSubscriber): Message[] {
  return subscriber.inbox.events.filter((event) => event['type'] !== 'flush');
}

/** Waits until `subscriber` has a bridged event of `type`. */
export async function waitForBridged(subscriber: SseSubscriber, type: string): Promise<void> {
  await waitUntil(() => bridged(subscriber).some((event) => event['type'] === type), `a ${type} event`);
}

/**
 * Sends numbered messages through `send` every 100 ms until `subscriber` has
 * received one of them, and returns how many were sent. Polls instead of waiting
 * a fixed time for a takeover.
 */
export async function sendUntilReceived(send: (n: number) => Promise<void>, subscriber: SseSubscriber, timeoutMs: number): Promise<number> {
  let sent = 0;
  const before = bridged(subscriber).length;
  await waitUntil(
    async () => {
      if (bridged(subscriber).length > before) return true;
      await send(++sent);
      await sleep(100);
      return false;
    },
    'a message bridged by the surviving node',
    timeoutMs,
  );
  return sent;
}
