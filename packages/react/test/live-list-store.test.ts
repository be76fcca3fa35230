import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HeraldEvent, SubscribeOptions } from '@herald/client';
import { LiveListStore } from '../src/index.js';

/**
 * A stand-in for the client that lets the test decide when the subscription is
 * confirmed and when events arrive relative to the load: the interleavings a real
 * hub produces only by chance.
 */
class FakeClient {
  options: SubscribeOptions<any> | undefined;
  unsubscribed = 0;
  subscribe(_topic: string | readonly string[], options: SubscribeOptions<any>): () => void {
    this.options = options;
    return () => void this.unsubscribed++;
  }
  event(id: string, type: string, data: unknown): void {
    this.options!.onEvent({ id, topic: 'todos', type, data, timestamp: 't' } as HeraldEvent);
  }
}

interface Todo {
  id: number;
  text: string;
  done?: boolean;
}

function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(error: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('LiveListStore', () => {
  it('loads only once the subscription is confirmed, applying events that arrived during the load', async () => {
    const client = new FakeClient();
    const loads: Array<ReturnType<typeof deferred<Todo[]>>> = [];
    const store = new LiveListStore<Todo>({ topic: 'todos', getKey: (t) => t.id, load: () => (loads.push(deferred()), loads.at(-1)!.promise) });
    store.start(client);
    await tick();
    assert.equal(loads.length, 0, 'no load before the hub holds the subscription');
    assert.equal(store.getSnapshot().state, 'subscribing');
    client.options!.onSubscribed!();
    await tick();
    assert.equal(loads.length, 1);
    assert.equal(store.getSnapshot().state, 'loading');
    // Published while the load runs: one the load already reflects, one it does not.
    client.event('e1', 'update', { id: 1, done: true });
    client.event('e2', 'create', { id: 2, text: 'two' });
    loads[0]!.resolve([{ id: 1, text: 'one', done: true }]);
    await tick();
    assert.deepEqual(store.getSnapshot(), {
      items: [
        { id: 1, text: 'one', done: true },
        { id: 2, text: 'two' },
      ],
      state: 'ready',
      error: undefined,
    });
    client.event('e3', 'delete', { id: 1 });
    client.event('e4', 'delete', { id: 99 });
    client.event('e5', 'update', { id: 2, done: true });
    assert.deepEqual(store.getSnapshot().items, [{ id: 2, text: 'two', done: true }]);
  });

  it('skips buffered events up to the lastEventId that load returns', async () => {
    const client = new FakeClient();
    const load = deferred<{ items: Array<{ id: number; n: number }>; lastEventId: string }>();
    const store = new LiveListStore<{ id: number; n: number }>({
      topic: 'todos',
      getKey: (t) => t.id,
      load: () => load.promise,
      // A counter is not idempotent: applying an event twice would count twice.
      apply: (items, event) => items.map((item) => (item.id === (event.data as { id: number }).id ? { ...item, n: item.n + 1 } : item)),
    });
    store.start(client);
    client.options!.onSubscribed!();
    await tick();
    client.event('a', 'increment', { id: 1 });
    client.event('b', 'increment', { id: 1 });
    load.resolve({ items: [{ id: 1, n: 1 }], lastEventId: 'a' });
    await tick();
    assert.deepEqual(store.getSnapshot().items, [{ id: 1, n: 2 }]);
  });

  it('reloads on reset and ignores a load that a newer one replaced', async () => {
    const client = new FakeClient();
    const loads: Array<ReturnType<typeof deferred<Todo[]>>> = [];
    const store = new LiveListStore<Todo>({ topic: 'todos', getKey: (t) => t.id, load: () => (loads.push(deferred()), loads.at(-1)!.promise) });
    store.start(client);
    client.options!.onSubscribed!();
    await tick();
    client.options!.onReset!({ topic: 'todos', reason: 'expired' });
    await tick();
    assert.equal(loads.length, 2);
    loads[1]!.resolve([{ id: 2, text: 'new' }]);
    await tick();
    loads[0]!.resolve([{ id: 1, text: 'stale' }]);
    await tick();
    assert.deepEqual(store.getSnapshot().items, [{ id: 2, text: 'new' }]);
    // A reconnect that resumed confirms again without a reset: no reload.
    client.options!.onSubscribed!();
    await tick();
    assert.equal(loads.length, 2);
  });

  it('reports a failed load and recovers with reload()', async () => {
    const client = new FakeClient();
    let fail = true;
    const store = new LiveListStore<Todo>({
      topic: 'todos',
      getKey: (t) => t.id,
      load: async () => (fail ? Promise.reject(new Error('503')) : [{ id: 1, text: 'ok' }]),
    });
    store.start(client);
    client.options!.onSubscribed!();
    await tick();
    assert.equal(store.getSnapshot().state, 'error');
    assert.match(String(store.getSnapshot().error), /503/);
    fail = false;
    store.reload();
    await tick();
    assert.equal(store.getSnapshot().state, 'ready');
    assert.equal(store.getSnapshot().error, undefined);
  });

  it('stops: unsubscribes and ignores a load still running', async () => {
    const client = new FakeClient();
    const load = deferred<Todo[]>();
    const store = new LiveListStore<Todo>({ topic: 'todos', getKey: (t) => t.id, load: () => load.promise });
    const stop = store.start(client);
    client.options!.onSubscribed!();
    await tick();
    stop();
    assert.equal(client.unsubscribed, 1);
    let notified = 0;
    store.subscribe(() => notified++);
    load.resolve([{ id: 1, text: 'late' }]);
    await tick();
    assert.equal(notified, 0);
  });
});
