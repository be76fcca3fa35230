import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judge } from '../src/accounting.js';
import { Ledger } from '../src/ledger.js';
import { SubscriberLog } from '../src/subscriber-log.js';

// The accounting decides every verdict, so it is checked on hand-built histories
// first: each failure kind must be seen, and nothing allowed may be counted as one.

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 2));

async function publish(ledger: Ledger, key: string, topic = 't/a'): Promise<void> {
  ledger.sent(key, topic);
  await tick();
  ledger.acked(key);
  await tick();
}

function subscriber(pattern = 't/*'): SubscriberLog {
  const log = new SubscriberLog('s', pattern, (topic) => (pattern === 't/*' ? topic.startsWith('t/') : topic === pattern));
  log.confirmed();
  return log;
}

test('a clean history passes: everything expected received once, in order', async () => {
  const ledger = new Ledger();
  const log = subscriber();
  for (const key of ['a', 'b', 'c']) await publish(ledger, key);
  for (const key of ['a', 'b', 'c']) log.event(key, key);
  const tally = judge(log, ledger);
  assert.deepEqual([tally.expected, tally.received, tally.missingUnexplained, tally.duplicated, tally.reordered], [3, 3, 0, 0, 0]);
});

test('a silent gap is an unexplained miss; a later reset does not cover events before the last one received', async () => {
  const ledger = new Ledger();
  const log = subscriber();
  for (const key of ['a', 'b', 'c']) await publish(ledger, key);
  log.event('a', 'a');
  log.event('c', 'c');
  log.reset('t/*', 'expired');
  const tally = judge(log, ledger);
  assert.equal(tally.missingUnexplained, 1);
  assert.deepEqual(tally.samples.missing, ['b']);
});

test('a reset covers events after the last one received and before the reset, not after it', async () => {
  const ledger = new Ledger();
  const log = subscriber();
  await publish(ledger, 'a');
  log.event('a', 'a');
  await publish(ledger, 'b');
  log.reset('t/*', 'expired');
  await tick();
  await publish(ledger, 'c');
  const tally = judge(log, ledger);
  assert.equal(tally.missingExplained, 1, 'b is covered');
  assert.equal(tally.missingUnexplained, 1, 'c was sent after the reset');
});

test('a reset for another pattern explains nothing', async () => {
  const ledger = new Ledger();
  const log = subscriber();
  await publish(ledger, 'a');
  log.reset('other/*', 'expired');
  assert.equal(judge(log, ledger).missingUnexplained, 1);
});

test('duplicates count, unless a reset came between the copies', async () => {
  const ledger = new Ledger();
  const log = subscriber();
  await publish(ledger, 'a');
  await publish(ledger, 'b');
  log.event('a', 'a');
  log.event('a', 'a');
  log.event('b', 'b');
  log.reset('t/*', 'unknown_id');
  log.event('b', 'b');
  const tally = judge(log, ledger);
  assert.equal(tally.duplicated, 1);
  assert.equal(tally.duplicatedAfterReset, 1);
});

test('order: an event sent after another was acknowledged must not arrive first', async () => {
  const ledger = new Ledger();
  const log = subscriber();
  await publish(ledger, 'a');
  await publish(ledger, 'b');
  log.event('b', 'b');
  log.event('a', 'a');
  assert.equal(judge(log, ledger).reordered, 1);
});

test('order: concurrent publishes may arrive either way, unless the log order says otherwise', async () => {
  const ledger = new Ledger();
  const log = subscriber();
  ledger.sent('a', 't/a');
  ledger.sent('b', 't/a');
  await tick();
  ledger.acked('b');
  ledger.acked('a');
  log.event('b', 'b');
  log.event('a', 'a');
  assert.equal(judge(log, ledger).reordered, 0);
  assert.equal(
    judge(log, ledger, {
      logOrder: new Map([
        ['a', 1],
        ['b', 2],
      ]),
    }).reordered,
    1,
  );
});

test('events sent before the subscription was confirmed are not expected', async () => {
  const ledger = new Ledger();
  await publish(ledger, 'early');
  const log = subscriber();
  await tick();
  await publish(ledger, 'late');
  log.event('early', 'early');
  log.event('late', 'late');
  const tally = judge(log, ledger);
  assert.equal(tally.expected, 1);
  assert.equal(tally.missingUnexplained, 0);
});

test('an event refused on every attempt and delivered anyway is a phantom; one attempt with an unclear end is not', async () => {
  const ledger = new Ledger();
  const log = subscriber();
  ledger.sent('refused', 't/a');
  ledger.refused('refused');
  ledger.sent('unclear', 't/a');
  ledger.sent('unclear', 't/a');
  ledger.refused('unclear');
  log.event('refused', 'refused');
  log.event('unclear', 'unclear');
  const tally = judge(log, ledger);
  assert.equal(tally.phantoms, 1);
  assert.equal(tally.unacked, 1);
});

test('topics the subscriber does not hold are not expected', async () => {
  const ledger = new Ledger();
  const log = subscriber('t/a');
  await publish(ledger, 'a', 't/a');
  await publish(ledger, 'b', 't/b');
  log.event('a', 'a');
  assert.equal(judge(log, ledger).expected, 1);
});
