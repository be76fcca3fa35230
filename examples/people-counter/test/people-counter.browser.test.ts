import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { waitUntil } from '../../../packages/server/test/helpers/hub.js';
import { reachable } from '../../shared/services.js';
import { exampleSkipReason, HubLog, launchChromium } from '../../shared/test/browser.js';
import { dropSchema } from '../server/schema.js';
import { databaseUrl, startPeopleCounterStack, type PeopleCounterStack } from '../server/stack.js';

const SCREENSHOTS = fileURLToPath(new URL('../../../test-output/', import.meta.url));
const DATABASE = databaseUrl();

/** The browser's skip (shared), and Postgres's, which only this example needs. */
async function skipReason(): Promise<string | false> {
  const browser = await exampleSkipReason('people-counter');
  if (browser !== false) return browser;
  if (await reachable(DATABASE)) return false;
  const message = `no Postgres at ${DATABASE} (start it or set DATABASE_URL)`;
  if (process.env['HERALD_REQUIRE_POSTGRES'] === '1') throw new Error(`the people-counter example test cannot run: ${message}, and HERALD_REQUIRE_POSTGRES=1`);
  process.stderr.write(`\n*** SKIPPING the people-counter example's browser test: ${message}. ***\n\n`);
  return message;
}
const skip = await skipReason();

const texts = (page: Page, selector: string, attribute: string): Promise<string[]> =>
  page.evaluate(([css, name]) => [...document.querySelectorAll<HTMLElement>(css!)].map((element) => element.dataset[name!] ?? ''), [selector, attribute]);
const movementIds = (page: Page): Promise<string[]> => texts(page, '#movements tr', 'movement');
const alertIds = (page: Page): Promise<string[]> => texts(page, '#alerts li', 'alert');
const stateOf = async (page: Page): Promise<string> => (await page.locator('#status').getAttribute('data-state')) ?? '';
const lobbyCount = (page: Page): Promise<string> => page.locator('[data-session="lobby"] .count').innerText();

describe('example: people counter (Postgres tables + herald pg triggers + herald serve --postgres + React page in Chromium)', { skip }, () => {
  const work = mkdtempSync(join(tmpdir(), 'herald-people-counter-'));
  // A schema of this run's own: its tables, its outbox and its relay's wake-up channel.
  const schema = `people_counter_test_${process.pid}_${Date.now()}`;
  const hubLog = new HubLog();
  let stack: PeopleCounterStack;
  let browser: Browser;

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    stack = await startPeopleCounterStack({ appPort: 0, hubPort: 0, databaseUrl: DATABASE, schema, pageDir: join(work, 'dist'), hubOutput: hubLog.output });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
    await dropSchema(DATABASE, schema);
    rmSync(work, { recursive: true, force: true });
    hubLog.show();
  });

  it('row inserts, in-place updates, deletes and a resolved alert reach the page live on one connection; a hub restart misses nothing', async () => {
    const lobby = stack.sessionId;
    await stack.counter.move(lobby, 'in', 2);
    const page = await browser.newPage({ viewport: { width: 1100, height: 720 } });
    await page.goto(stack.url);
    await waitUntil(async () => (await stateOf(page)) === 'connected', 'the page connected', 15_000);
    await waitUntil(async () => (await movementIds(page)).length === 1 && (await lobbyCount(page)) === '2', 'the page loaded the first movement');

    // An insert appears; the session's row updates in place (the same element, new numbers).
    await page.locator('[data-session="lobby"]').evaluate((card) => card.setAttribute('data-marked', 'yes'));
    await page.locator('#move-in').click();
    // The button's request goes out from the page; wait for its row so the next one is surely newer.
    await waitUntil(async () => (await movementIds(page)).length === 2, "the button's movement on the page");
    const second = await stack.counter.move(lobby, 'in', 3);
    await waitUntil(async () => (await movementIds(page)).length === 3, 'two inserted movements on the page');
    assert.equal((await movementIds(page))[0], String(second.id), 'newest first');
    await waitUntil(async () => (await lobbyCount(page)) === '6', 'the session count updated');
    assert.equal(await page.locator('[data-session="lobby"]').getAttribute('data-marked'), 'yes', 'the session card was updated, not replaced');
    await waitUntil(async () => (await page.locator('#metrics [data-field=current_count]').innerText()) === '6', 'the metrics row updated');
    assert.equal(await page.locator('[data-session="cafeteria"] .count').innerText(), '0', 'the other session untouched');

    // A delete vanishes (the filter matches a delete on its old row), and the counts follow.
    await page.locator(`tr[data-movement="${second.id}"] button.delete`).click();
    await waitUntil(async () => !(await movementIds(page)).includes(String(second.id)), 'the deleted movement gone');
    await waitUntil(async () => (await lobbyCount(page)) === '3', 'the count taken back');

    // Over capacity (12) raises an alert; resolving it is an update that leaves the view `resolved = false`.
    await stack.counter.move(lobby, 'in', 10);
    await waitUntil(async () => (await alertIds(page)).length === 1, 'the over-capacity alert shown');
    const [alertId] = await alertIds(page);
    await page.locator(`li[data-alert="${alertId}"] button.resolve`).click();
    await waitUntil(async () => (await alertIds(page)).length === 0, 'the resolved alert left the open alerts');
    assert.equal((await stack.counter.alerts(lobby, true)).length, 1, 'it is resolved in the table, not deleted');

    // The hub restarts; what the app writes meanwhile waits in the outbox and arrives once, in order.
    await stack.hub.stop();
    await waitUntil(async () => (await stateOf(page)) === 'reconnecting', 'the page reconnecting', 10_000);
    await page.screenshot({ path: join(SCREENSHOTS, 'example-people-counter-reconnecting.png') });
    const whileDown = await stack.counter.move(lobby, 'out', 4);
    await stack.counter.move(lobby, 'in', 6);
    await stack.hub.start();
    await waitUntil(async () => (await stateOf(page)) === 'connected', 'the page connected again', 15_000);
    await waitUntil(async () => (await alertIds(page)).length === 1, 'the alert raised while the hub was down');
    const expected = (await stack.counter.movements(lobby)).map((m) => String(m.id)).reverse();
    await waitUntil(async () => JSON.stringify(await movementIds(page)) === JSON.stringify(expected), 'every movement, none twice').catch(
      async (error: Error) => assert.deepEqual(await movementIds(page), expected, error.message),
    );
    assert.ok(expected.includes(String(whileDown.id)));
    const [session] = (await stack.counter.sessions()).filter((s) => s.id === lobby);
    await waitUntil(async () => (await lobbyCount(page)) === String(session!.current_count), 'the count as in the table');

    const screenshot = join(SCREENSHOTS, 'example-people-counter.png');
    await page.screenshot({ path: screenshot });
    if (process.env['HERALD_UPDATE_SCREENSHOTS'] === '1')
      copyFileSync(screenshot, fileURLToPath(new URL('../../../docs/images/example-people-counter.png', import.meta.url)));
    await page.close();
  });
});
