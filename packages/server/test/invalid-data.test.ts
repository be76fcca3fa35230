import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HeraldError } from '@herald/protocol';
import { OUTBOX_INSTALL_SQL, OutboxRelay } from '../src/index.js';
import { MAX_DATA_DEPTH, nestsDeeperThan, serializeData, toDraft } from '../src/publish-input.js';
import { WsSubscriber } from './helpers/clients.js';
import { metric, publish, startHub, waitUntil, type RunningHub } from './helpers/hub.js';
import { createTestSchema, postgresSkipReason } from './helpers/postgres.js';
import { seededRandom, testSeed } from './helpers/random.js';

const LIMIT = 64 * 1024;

/** `levels` arrays nested in each other, as JSON text: `[[[]]]` is 3. */
const nestedText = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);
/** The same as a value, built without recursion. */
const nested = (levels: number): unknown => JSON.parse(nestedText(levels));

function isInvalidData(error: unknown): boolean {
  return error instanceof HeraldError && error.code === 'invalid_data';
}

/** Nesting depth of a parsed JSON value, the slow obvious way (the reference for the scanner). */
function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

describe('event data that is not JSON, or nested too deeply', () => {
  it(`serializes data nested ${MAX_DATA_DEPTH} levels deep and refuses one level more`, () => {
    assert.equal(serializeData(nested(MAX_DATA_DEPTH), LIMIT), nestedText(MAX_DATA_DEPTH));
    assert.equal(serializeData({ a: nested(MAX_DATA_DEPTH - 1) }, LIMIT), `{"a":${nestedText(MAX_DATA_DEPTH - 1)}}`);
    assert.throws(() => serializeData(nested(MAX_DATA_DEPTH + 1), LIMIT), isInvalidData);
    assert.throws(() => serializeData({ a: nested(MAX_DATA_DEPTH) }, LIMIT), isInvalidData);
  });

  it('refuses data JSON.stringify cannot serialize, with invalid_data instead of a crash', () => {
    const circular: Record<string, unknown> = { a: 1 };
    circular['self'] = circular;
    const cases: Array<[string, unknown]> = [
      ['10,000 levels (the stack runs out inside JSON.stringify)', nested(10_000)],
      ['a circular object', circular],
      ['a BigInt', { n: 10n }],
      [
        'a throwing toJSON',
        {
          toJSON: () => {
            throw new Error('nope');
          },
        },
      ],
      ['a function', () => 1],
      ['a symbol', Symbol('s')],
    ];
    for (const [what, data] of cases) {
      assert.throws(() => serializeData(data, LIMIT), isInvalidData, what);
    }
  });

  it('measures nesting outside strings only, escapes included, as the reference does', () => {
    const seed = testSeed();
    const random = seededRandom(seed);
    const pieces = ['[', ']', '{', '}', '"', '\\', '\\"', 'x', 'é', '\\\\"'];
    const leaf = (): unknown => {
      if (random() < 0.5) return Math.floor(random() * 100);
      // Strings full of brackets, quotes and backslashes, some long enough for the indexOf path.
      const length = Math.floor(random() * (random() < 0.2 ? 80 : 8));
      return Array.from({ length }, () => pieces[Math.floor(random() * pieces.length)]).join('');
    };
    const build = (depth: number): unknown => {
      if (depth === 0 || random() < 0.15) return leaf();
      const size = 1 + Math.floor(random() * 3);
      if (random() < 0.5) return Array.from({ length: size }, () => build(depth - 1));
      return Object.fromEntries(Array.from({ length: size }, (_, i) => [`${leaf()}${i}`, build(depth - 1)]));
    };
    for (let round = 0; round < 300; round++) {
      const value = build(Math.floor(random() * 12));
      const json = JSON.stringify(value);
      const depth = depthOf(value);
      for (const limit of [depth - 1, depth, depth + 1].filter((n) => n >= 0)) {
        assert.equal(nestsDeeperThan(json, limit), depth > limit, `seed ${seed}: ${json} at limit ${limit}`);
      }
    }
  });

  it('applies to sources that build drafts (the Postgres outbox relay)', () => {
    assert.throws(() => toDraft({ topic: 't', data: nested(MAX_DATA_DEPTH + 1) }, LIMIT), isInvalidData);
  });
});

describe('publish paths answer invalid_data and the hub keeps serving', () => {
  let running: RunningHub;
  before(async () => {
    running = await startHub();
  });
  after(() => running.close());

  it('POST /publish: 400 invalid_data for one event and for a batch (nothing of it published); others are served', async () => {
    const subscriber = await WsSubscriber.open(running.url, '?topic=deep');
    const deep = `{"topic":"deep","data":${nestedText(10_000)}}`;
    const single = await publish(running.url, deep);
    assert.equal(single.status, 400);
    assert.equal(single.body.error.code, 'invalid_data');

    const batch = await publish(running.url, `[{"topic":"deep","data":1},{"topic":"deep","data":${nestedText(MAX_DATA_DEPTH + 1)}}]`);
    assert.equal(batch.status, 400);
    assert.equal(batch.body.error.code, 'invalid_data');
    assert.match(batch.body.error.message, /^events\[1\]: /);

    const good = await publish(running.url, { topic: 'deep', data: nested(MAX_DATA_DEPTH) });
    assert.equal(good.status, 201);
    const [event] = await subscriber.inbox.waitForEvents(1);
    assert.equal(event!['id'], good.body.ids[0], 'only the good event reached the subscriber');
    assert.equal(await metric(running.url, 'herald_requests_rejected_total{code="invalid_data"}'), 2);
    assert.equal(await metric(running.url, 'herald_requests_rejected_total{code="internal_error"}'), 0);
    subscriber.close();
  });

  it('WebSocket publish: an invalid_data error with the ref, and the connection stays open', async () => {
    const client = await WsSubscriber.open(running.url);
    // Written as text: JSON.stringify on this side would run out of stack too.
    client.socket.send(`{"type":"publish","topic":"deep-ws","ref":"deep","data":${nestedText(10_000)}}`);
    await waitUntil(() => client.inbox.messages.some((m) => m['ref'] === 'deep'), 'the reply');
    const refused = client.inbox.messages.find((m) => m['ref'] === 'deep')!;
    assert.equal(refused['type'], 'error');
    assert.equal(refused['code'], 'invalid_data');
    const tooDeep = await client.request({ type: 'publish', topic: 'deep-ws', data: nested(MAX_DATA_DEPTH + 1) });
    assert.equal(tooDeep['code'], 'invalid_data');
    const accepted = await client.request({ type: 'publish', topic: 'deep-ws', data: { fine: true } });
    assert.equal(accepted['type'], 'published');
    assert.equal(client.closeCode, undefined);
    client.close();
  });

  it('hub.publish in process: rejects with HeraldError invalid_data', async () => {
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    for (const data of [nested(10_000), nested(MAX_DATA_DEPTH + 1), circular, { n: 1n }]) {
      await assert.rejects(running.hub.publish({ topic: 'deep-hub', data }), isInvalidData);
    }
    const [result] = await running.hub.publish({ topic: 'deep-hub', data: 'fine' });
    assert.equal(typeof result!.id, 'string');
  });
});

const pgSkip = await postgresSkipReason();

describe('the Postgres outbox relay skips a row whose data is nested too deeply', { skip: pgSkip }, () => {
  it('records invalid_data on the row and relays the rows after it', { timeout: 30_000 }, async () => {
    const schema = await createTestSchema();
    const running = await startHub();
    try {
      await schema.query(OUTBOX_INSTALL_SQL);
      const subscriber = await WsSubscriber.open(running.url, '?topic=outbox');
      await schema.query(`SELECT herald_publish('outbox', 'row', $1::jsonb)`, [nestedText(MAX_DATA_DEPTH + 1)]);
      const { rows } = await schema.query<{ id: string }>(`SELECT herald_publish('outbox', 'row', '{"ok":true}'::jsonb)::text AS id`);
      const relay = new OutboxRelay(running.hub, { url: schema.url, pollIntervalMs: 100, lockRetryMs: 200 });
      running.hub.own(relay);
      await relay.start();
      const [event] = await subscriber.inbox.waitForEvents(1, 10_000);
      assert.equal(event!['id'], `outbox-${rows[0]!.id}`);
      let errors: Array<{ error: string | null }> = [];
      await waitUntil(async () => {
        errors = (await schema.query<{ error: string | null }>('SELECT error FROM herald_outbox WHERE error IS NOT NULL')).rows;
        return errors.length === 1;
      }, 'the bad row to be marked');
      assert.match(errors[0]!.error!, /nested more than 64 levels/);
      subscriber.close();
    } finally {
      await running.close();
      await schema.drop();
    }
  });
});
