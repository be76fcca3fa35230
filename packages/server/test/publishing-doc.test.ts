/**
 * Runs the snippets of docs/publishing.md as a reader would copy them: the Python
 * block with `python3` and the curl block with `sh`, against a real hub with a
 * publish key, every message of the Redis bridge table through a real Redis, and
 * the SQL block on a real Postgres with the outbox.
 * Blocks are found by the `<!-- tested: name -->` marker above them, so the page
 * and what this file proves cannot drift apart. (The Go snippet is not run: Go is
 * not installed here.)
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createHub, OUTBOX_INSTALL_SQL } from '../src/index.js';
import { RedisBroker } from '../src/broker/redis.js';
import { RedisBridge } from '../src/sources/redis-bridge.js';
import { openSse, type SseSubscriber } from './helpers/clients.js';
import { sleep, startHub, waitUntil, type RunningHub } from './helpers/hub.js';
import { inSchema, postgresSkipReason, startRelayHub } from './helpers/postgres.js';
import { dropPrefix, REDIS_URL, redisSkipReason, testPrefix } from './helpers/redis.js';

const DOC = readFileSync(new URL('../../../docs/publishing.md', import.meta.url), 'utf8');
const PUBLISH_KEY = 'publishing-doc-test-key-0123456789';

/** The text right after `<!-- tested: name -->`. */
function afterMarker(name: string): string {
  const marker = `<!-- tested: ${name} -->\n`;
  const at = DOC.indexOf(marker);
  if (at < 0) throw new Error(`docs/publishing.md has no "${marker.trim()}" marker`);
  return DOC.slice(at + marker.length);
}

/** The fenced code block marked `<!-- tested: name -->`. */
function markedBlock(name: string): string {
  const fence = /^```[a-z]*\n([\s\S]*?)\n```/.exec(afterMarker(name));
  if (fence === null) throw new Error(`the "${name}" marker in docs/publishing.md is not followed by a fenced block`);
  return fence[1]!;
}

/** The body rows of the markdown table marked `<!-- tested: name -->`, split into cells. */
function markedTable(name: string): string[][] {
  const lines = afterMarker(name).split('\n');
  const end = lines.findIndex((line) => !line.startsWith('|'));
  // Cells are split on ` | `: the JSON in them has no such sequence.
  return lines.slice(2, end).map((line) =>
    line
      .slice(1, line.lastIndexOf('|'))
      .split(' | ')
      .map((cell) => cell.trim()),
  );
}

/** False when `program --version` runs; else the reason, printed once, loudly, as the Redis and Postgres suites do. */
function missingProgram(program: string): string | false {
  const probe = spawnSync(program, ['--version'], { encoding: 'utf8' });
  if (probe.error === undefined && probe.status === 0) return false;
  const reason = `${program} is not installed (${probe.error?.message ?? `exit ${probe.status}`})`;
  process.stderr.write(`\n*** SKIPPING the docs/publishing.md ${program} snippet: ${reason}. Install ${program} to run it. ***\n\n`);
  return reason;
}

/** Runs a program to its end and returns what it printed; rejects with its stderr when it fails. */
function run(program: string, args: string[], env: Record<string, string>, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${program} exited with ${code}: ${stderr}${stdout}`))));
  });
}

const pythonMissing = missingProgram('python3');
const curlMissing = missingProgram('curl');

describe('docs/publishing.md snippets against a real hub', () => {
  let running: RunningHub;
  let subscriber: SseSubscriber;
  let scratch: string;

  before(async () => {
    running = await startHub({ publishKeys: [PUBLISH_KEY] });
    subscriber = await openSse(running.url, ['team-answers']);
    scratch = mkdtempSync(join(tmpdir(), 'herald-publishing-doc-'));
  });
  after(async () => {
    subscriber.close();
    await running.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  const events = () => subscriber.inbox.events;
  const env = (url: string) => ({ HERALD_URL: url, HERALD_PUBLISH_KEY: PUBLISH_KEY });

  it('the Python snippet publishes an event a subscriber receives, once however often it runs', { skip: pythonMissing }, async () => {
    const script = join(scratch, 'publish.py');
    writeFileSync(script, markedBlock('python'));
    const before = events().length;
    assert.equal((await run('python3', [script], env(running.url))).trim(), "['answer-107-create']");
    await waitUntil(() => events().length > before, 'the event the Python snippet published');
    const event = events()[before]!;
    assert.deepEqual(
      { id: event['id'], topic: event['topic'], type: event['type'], data: event['data'] },
      { id: 'answer-107-create', topic: 'team-answers', type: 'create', data: { id: 107, text: 'Paris', team: 'blue' } },
    );
    // A second run is a retry of the same event: its publisher id makes it a duplicate.
    assert.equal((await run('python3', [script], env(running.url))).trim(), "['answer-107-create']");
    await sleep(100);
    assert.equal(events().filter((e) => e['id'] === 'answer-107-create').length, 1);
  });

  it('the Python snippet retries until a hub that was down comes up', { skip: pythonMissing }, async (t) => {
    const script = join(scratch, 'publish.py');
    writeFileSync(script, markedBlock('python').replace('answer-{answer', 'late-answer-{answer'));
    // A port with no hub on it (yet): the first attempt is refused.
    const probe = await startHub();
    const port = probe.port;
    await probe.close();
    const output = run('python3', [script], env(`http://127.0.0.1:${port}`));
    await sleep(300);
    const late = createHub({ logger: false, publishKeys: [PUBLISH_KEY], shutdownTimeout: 2000 });
    t.after(() => late.close());
    await late.listen(port, '127.0.0.1');
    assert.equal((await output).trim(), "['late-answer-107-create']");
    // The hub's log holds it: publishing the same id again is a duplicate.
    const [again] = await late.publish({ topic: 'team-answers', type: 'create', data: null, id: 'late-answer-107-create' });
    assert.equal(again!.duplicate, true);
  });

  it('the curl snippet publishes a bulk delete a subscriber receives, once however often it runs', { skip: curlMissing }, async () => {
    const snippet = markedBlock('sh');
    const before = events().length;
    assert.equal((await run('sh', ['-c', snippet], env(running.url))).trim(), '{"ids":["answers-107-108-delete"]}');
    await waitUntil(() => events().length > before, 'the event the curl snippet published');
    const event = events()[before]!;
    assert.deepEqual(
      { id: event['id'], topic: event['topic'], type: event['type'], data: event['data'] },
      { id: 'answers-107-108-delete', topic: 'team-answers', type: 'delete', data: [107, 108] },
    );
    assert.equal((await run('sh', ['-c', snippet], env(running.url))).trim(), '{"ids":["answers-107-108-delete"]}');
    await sleep(100);
    assert.equal(events().filter((e) => e['id'] === 'answers-107-108-delete').length, 1);
  });

  it('the curl snippet fails loudly, printing the hub’s reason, on a refusal', { skip: curlMissing }, async () => {
    await assert.rejects(
      run('sh', ['-c', markedBlock('sh')], { HERALD_URL: running.url, HERALD_PUBLISH_KEY: 'not-the-key-0123456789' }),
      /exited with 22: .*"code":"unauthorized"/s,
    );
  });
});

const redisSkip = await redisSkipReason();

describe('docs/publishing.md: the Redis bridge message table, through a real Redis', { skip: redisSkip }, () => {
  let running: RunningHub;
  let prefix: string;
  const channel = `team_answers_updates_doc_${process.pid}`;

  before(async () => {
    prefix = testPrefix();
    running = await startHub({ broker: new RedisBroker({ url: REDIS_URL, prefix, blockMs: 500 }) });
    const bridge = new RedisBridge(running.hub, { url: REDIS_URL, mappings: [{ channel, topic: 'team-answers' }] });
    running.hub.own(bridge);
    await bridge.start();
  });
  after(async () => {
    await running.close();
    await dropPrefix(prefix);
  });

  it('turns each message into the event the table says, or into none', async () => {
    const rows = markedTable('redis-bridge').map(([message, outcome]) => ({ message: message!.replace(/^`|`$/g, ''), outcome: outcome! }));
    assert.ok(rows.length >= 8, 'the table has its rows');
    const subscriber = await openSse(running.url, ['team-answers']);
    const redis = new Redis(REDIS_URL);
    try {
      const expected: Array<{ type: string; data: unknown }> = [];
      for (const { message, outcome } of rows) {
        const event = /^type `([^`]+)`, data `([^`]+)`/.exec(outcome);
        if (event === null) assert.match(outcome, /^none: /, `row ${message}: "${outcome}" names an event or none`);
        else expected.push({ type: event[1]!, data: JSON.parse(event[2]!) });
        await redis.publish(channel, message);
      }
      // A last, valid message: once it is here, every row before it has been handled.
      await redis.publish(channel, '{"type":"end","data":null}');
      await subscriber.inbox.waitForEvents(expected.length + 1);
      const received = subscriber.inbox.events.map((e) => ({ topic: e['topic'], type: e['type'], data: e['data'] }));
      assert.deepEqual(
        received,
        [...expected, { type: 'end', data: null }].map((e) => ({ topic: 'team-answers', ...e })),
      );
      // No message's own id is used: the log generated them all.
      assert.ok(subscriber.inbox.events.every((e) => e['id'] !== 'x-1'));
    } finally {
      redis.disconnect();
      subscriber.close();
    }
  });
});

const postgresSkip = await postgresSkipReason();

describe('docs/publishing.md: herald_publish() in the app transaction, on a real Postgres', { skip: postgresSkip }, () => {
  it('the SQL block publishes one event when it commits, and none when it rolls back', { timeout: 60_000 }, async () => {
    await inSchema(async (s) => {
      await s.query(OUTBOX_INSTALL_SQL);
      await s.query('CREATE TABLE answers (id integer PRIMARY KEY, team text NOT NULL, text text NOT NULL)');
      const { running } = await startRelayHub(s.url);
      const subscriber = await openSse(running.url, ['team-answers']);
      try {
        const block = markedBlock('sql');
        assert.match(block, /COMMIT;/);
        // The same transaction rolled back: neither the row nor the event may exist.
        await s.query(block.replace(/COMMIT;.*$/m, 'ROLLBACK;'));
        await s.query(block);
        await subscriber.inbox.waitForEvents(1, 10_000);
        await sleep(300);
        const { rows } = await s.query<{ id: string }>('SELECT id::text AS id FROM herald_outbox ORDER BY seq');
        assert.equal(rows.length, 1, 'only the committed transaction left an outbox row');
        assert.deepEqual(
          subscriber.inbox.events.map((e) => ({ id: e['id'], topic: e['topic'], type: e['type'], data: e['data'] })),
          [{ id: `outbox-${rows[0]!.id}`, topic: 'team-answers', type: 'create', data: { id: 107, team: 'blue', text: 'Paris' } }],
        );
        assert.equal((await s.query('SELECT count(*)::int AS n FROM answers')).rows[0].n, 1);
      } finally {
        subscriber.close();
        await running.close();
      }
    });
  });
});
