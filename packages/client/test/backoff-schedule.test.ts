/**
 * The check-in rooms team's schedule, "retry after 1, 2, 4, 8 and 16 s, then a red
 * failed dot", as one options object, against a real hub that is down, unreachable
 * or refusing. The delays are read off the client's injectable clock (a FakeClock
 * that the test moves on), so the test measures them exactly without waiting 31 real
 * seconds; the connection attempts themselves are real sockets.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { createClient, type ClientOptions, type HeraldClient, type HeraldError, type TransportMode, type WebSocketConstructor } from '../src/index.js';
import { FakeClock } from './fakes.js';
import { CuttableProxy, startHub, waitUntil, type RunningHub } from './helpers/setup.js';

/** The team's schedule: no jitter, doubling from 1 s, five retries. */
const CHECK_IN_SCHEDULE = { backoff: { initial: 1000, factor: 2, cap: 16_000, jitter: 'none' }, maxAttempts: 5 } satisfies Partial<ClientOptions>;
const EXPECTED_DELAYS = [1000, 2000, 4000, 8000, 16_000];
/** A connect timeout no retry delay can equal, so the pending retry timer is told apart from it. */
const CONNECT_TIMEOUT = 12_345;

/** A client whose every connection attempt (WebSocket or SSE) is counted, on a fake clock. */
function countingClient(url: string, transport: TransportMode, options: Partial<ClientOptions> = CHECK_IN_SCHEDULE) {
  const clock = new FakeClock();
  const attempts = { websocket: 0, sse: 0 };
  class CountingWebSocket extends WebSocket {
    constructor(address: string) {
      super(address);
      attempts.websocket++;
    }
  }
  const client = createClient({
    url,
    transport,
    clock,
    connectTimeout: CONNECT_TIMEOUT,
    WebSocket: CountingWebSocket as unknown as WebSocketConstructor,
    fetch: (input, init) => {
      attempts.sse++;
      return fetch(input, init);
    },
    onOnline: () => () => undefined,
    ...options,
  });
  const errors: HeraldError[] = [];
  client.on('error', (error) => errors.push(error));
  return { client, clock, attempts, errors };
}

/**
 * Lets real attempts fail and moves the fake clock over each retry wait, until the
 * client connects or gives up; returns the waits, in order.
 */
async function followRetries(client: HeraldClient, clock: FakeClock, until: 'failed' | 'connected'): Promise<number[]> {
  const delays: number[] = [];
  for (;;) {
    await waitUntil(
      () => client.state === until || (client.state === 'reconnecting' && clock.pending.length === 1 && clock.pending[0] !== CONNECT_TIMEOUT),
      `the next retry wait or ${until} (waits so far: ${delays.join(', ')})`,
    );
    if (client.state === until) return delays;
    const wait = clock.pending[0]!;
    delays.push(wait);
    if (delays.length > 20) assert.fail(`still retrying after ${delays.join(', ')}`);
    clock.advance(wait);
  }
}

/** Attempts per round: in `auto` mode a round tries WebSocket, then SSE at once. */
const perRound = (transport: TransportMode) =>
  transport === 'auto' ? { websocket: 1, sse: 1 } : transport === 'websocket' ? { websocket: 1, sse: 0 } : { websocket: 0, sse: 1 };

describe('configurable backoff against a real hub', () => {
  let running: RunningHub;
  let proxy: CuttableProxy;
  let stoppedUrl: string;

  before(async () => {
    running = await startHub({ heartbeatInterval: 60_000 });
    proxy = await CuttableProxy.start(running.port);
    // A port a hub listened on and no longer does: connections are refused.
    const stopped = await startHub();
    stoppedUrl = stopped.url;
    await stopped.close();
  });
  after(async () => {
    await proxy.close();
    await running.close();
  });

  for (const transport of ['websocket', 'sse', 'auto'] as const) {
    it(`${transport}: a hub that is down from the start: the first attempt and 5 retries after 1, 2, 4, 8, 16 s, then failed`, async (t) => {
      const { client, clock, attempts, errors } = countingClient(stoppedUrl, transport);
      t.after(() => client.close());
      client.subscribe('rooms/7', { onEvent: () => undefined });
      const delays = await followRetries(client, clock, 'failed');
      assert.deepEqual(delays, EXPECTED_DELAYS);
      const round = perRound(transport);
      assert.deepEqual(attempts, { websocket: 6 * round.websocket, sse: 6 * round.sse }, 'one first attempt and maxAttempts retries');
      assert.equal(errors.length, 1);
      assert.match(errors[0]!.message, /gave up after 5 retries/);
      // Failed means failed: no timer is left to try again.
      assert.deepEqual(clock.pending, []);
    });
  }

  it('a working connection whose hub becomes unreachable: the loss is the first failure, then the same schedule', async (t) => {
    proxy.up();
    const { client, clock, attempts } = countingClient(proxy.url, 'websocket');
    t.after(() => client.close());
    client.subscribe('rooms/7', { onEvent: () => undefined });
    await waitUntil(() => client.state === 'connected', 'connected through the proxy');
    proxy.down();
    assert.deepEqual(await followRetries(client, clock, 'failed'), EXPECTED_DELAYS);
    assert.equal(attempts.websocket, 1 + 5, 'the connection that worked, then maxAttempts retries');
    // Back up: reconnect() starts a fresh count.
    proxy.up();
    client.reconnect();
    await waitUntil(() => client.state === 'connected', 'connected again');
  });

  it('the hub coming back mid-schedule connects, and the next loss starts the schedule from 1 s again', async (t) => {
    proxy.down();
    const { client, clock } = countingClient(proxy.url, 'sse');
    t.after(() => client.close());
    client.subscribe('rooms/7', { onEvent: () => undefined });
    for (const expected of [1000, 2000, 4000]) {
      await waitUntil(() => clock.pending.length === 1 && clock.pending[0] !== CONNECT_TIMEOUT, `the ${expected} ms wait`);
      assert.deepEqual(clock.pending, [expected]);
      if (expected === 4000) proxy.up();
      clock.advance(expected);
    }
    await waitUntil(() => client.state === 'connected', 'connected after the hub came back');
    proxy.down();
    assert.deepEqual(await followRetries(client, clock, 'failed'), EXPECTED_DELAYS);
    proxy.up();
  });

  it('a hub that refuses (503 too_many_connections) is retried on the same schedule', async (t) => {
    const full = await startHub({ maxConnections: 1, heartbeatInterval: 60_000 });
    t.after(() => full.close());
    // The one allowed connection is taken.
    const holder = countingClient(full.url, 'sse', {});
    t.after(() => holder.client.close());
    holder.client.subscribe('rooms/1', { onEvent: () => undefined });
    await waitUntil(() => holder.client.state === 'connected', 'the connection that fills the hub');
    for (const transport of ['websocket', 'sse'] as const) {
      const { client, clock, attempts, errors } = countingClient(full.url, transport);
      client.subscribe('rooms/7', { onEvent: () => undefined });
      assert.deepEqual(await followRetries(client, clock, 'failed'), EXPECTED_DELAYS, transport);
      assert.equal(attempts[transport], 6, transport);
      // SSE reads the refusal's body; a browser-style WebSocket sees only that the upgrade failed.
      if (transport === 'sse') assert.equal(errors[0]?.code, 'too_many_connections', "the refusal names the hub's reason");
      client.close();
    }
  });

  it('maxAttempts 0 gives up at the first failure; the default full jitter stays below each ceiling', async (t) => {
    const none = countingClient(stoppedUrl, 'websocket', { maxAttempts: 0 });
    t.after(() => none.client.close());
    none.client.subscribe('rooms/7', { onEvent: () => undefined });
    assert.deepEqual(await followRetries(none.client, none.clock, 'failed'), []);
    assert.equal(none.attempts.websocket, 1);

    const jittered = countingClient(stoppedUrl, 'websocket', { backoff: { cap: 16_000 }, maxAttempts: 5, random: () => 0.5 });
    t.after(() => jittered.client.close());
    jittered.client.subscribe('rooms/7', { onEvent: () => undefined });
    assert.deepEqual(await followRetries(jittered.client, jittered.clock, 'failed'), [500, 1000, 2000, 4000, 8000]);
  });
});
