import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { waitUntil } from '../../../packages/server/test/helpers/hub.js';
import { redisUrl } from '../../shared/services.js';
import { dropRedisPrefix, exampleSkipReason, HubLog, launchChromium } from '../../shared/test/browser.js';
import { startCheckInStack, type CheckInStack } from '../server/stack.js';

const SCREENSHOTS = fileURLToPath(new URL('../../../test-output/', import.meta.url));
const REDIS = redisUrl();
const skip = await exampleSkipReason('check-in-rooms', { redis: REDIS });
// Short enough that the page must refresh its token several times during the test.
const TOKEN_SECONDS = 3;

/** What a supervisor sees: `group/room/student` for every student shown, sorted. */
const shown = (page: Page): Promise<string[]> =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('li[data-student]')]
      .map(
        (li) =>
          `${li.closest<HTMLElement>('[data-group]')!.dataset['group']}/${li.closest<HTMLElement>('[data-room]')!.dataset['room']}/${li.dataset['student']}`,
      )
      .sort(),
  );
const groupsShown = (page: Page): Promise<string[]> =>
  page.evaluate(() => [...document.querySelectorAll<HTMLElement>('[data-group]')].map((el) => el.dataset['group']!).sort());
const stateOf = async (page: Page): Promise<string> => (await page.locator('#status').getAttribute('data-state')) ?? '';
/** Every status the dot has shown since the page loaded, in order. */
const statesSeen = (page: Page): Promise<string[]> => page.evaluate(() => (window as unknown as { seen: string[] }).seen);

describe('example: check-in rooms (JWT login + authorization hook + server-chosen groups + React page in Chromium)', { skip }, () => {
  const work = mkdtempSync(join(tmpdir(), 'herald-check-in-'));
  const prefix = `herald-test-check-in-${process.pid}-${Date.now()}:`;
  const hubLog = new HubLog();
  let stack: CheckInStack;
  let browser: Browser;

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    stack = await startCheckInStack({
      appPort: 0,
      hubPort: 0,
      redisUrl: REDIS,
      redisPrefix: prefix,
      pageDir: join(work, 'dist'),
      tokenLifetimeSeconds: TOKEN_SECONDS,
      reauthorizeInterval: '1s',
      hubOutput: hubLog.output,
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
    rmSync(work, { recursive: true, force: true });
    await dropRedisPrefix(REDIS, prefix);
    hubLog.show();
  });

  it('each supervisor sees only their groups live; a revoked group stops; tokens refresh without a gap; a hub restart misses nothing', async () => {
    let student = 0;
    const checkIn = async (group: string, room: string): Promise<void> => {
      student += 1;
      const response = await fetch(`${stack.url}api/groups/${group}/checkins`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ student_id: `s${student}`, student_name: `Student ${student}`, room_id: room }),
      });
      assert.equal(response.status, 201, await response.text());
    };
    const tokenFor = async (supervisor: string): Promise<string> => {
      const { session } = (await (await fetch(`${stack.url}api/login`, { method: 'POST', body: JSON.stringify({ supervisor }) })).json()) as {
        session: string;
      };
      return ((await (await fetch(`${stack.url}api/token`, { method: 'POST', headers: { 'x-session': session } })).json()) as { token: string }).token;
    };
    const expected = (supervisor: string): string[] =>
      stack.school
        .groupsOf(supervisor)
        .flatMap((group) => stack.school.visits(group.id).map((visit) => `${group.id}/${visit.room_id}/${visit.student_id}`))
        .sort();
    const showsExactly = async (page: Page, supervisor: string, what: string, timeoutMs = 10_000): Promise<void> => {
      await waitUntil(async () => JSON.stringify(await shown(page)) === JSON.stringify(expected(supervisor)), what, timeoutMs).catch(async (error: Error) => {
        assert.deepEqual(await shown(page), expected(supervisor), error.message);
      });
    };
    const open = async (supervisor: string): Promise<Page> => {
      const page = await browser.newPage({ viewport: { width: 1000, height: 620 } });
      await page.addInitScript(() => {
        const seen: string[] = [];
        (window as unknown as { seen: string[] }).seen = seen;
        new MutationObserver(() => {
          const state = document.querySelector('#status')?.getAttribute('data-state');
          if (state && seen.at(-1) !== state) seen.push(state);
        }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
      });
      await page.goto(stack.url);
      await page.locator(`button[data-supervisor=${supervisor}]`).click();
      await waitUntil(async () => (await stateOf(page)) === 'connected', `${supervisor}'s page connected`, 15_000);
      return page;
    };

    await checkIn('g7', 'r1');
    const anna = await open('anna');
    const ben = await open('ben');
    assert.deepEqual(await groupsShown(anna), ['g7', 'g9']);
    assert.deepEqual(await groupsShown(ben), ['g12']);
    await showsExactly(anna, 'anna', "Anna's page loaded the check-in made before she logged in");

    // Check-ins in every group: each page shows its own groups' and nothing else.
    await checkIn('g9', 'r3');
    await checkIn('g7', 'r2');
    await checkIn('g12', 'r5');
    await showsExactly(anna, 'anna', 'Anna sees the check-ins of g7 and g9');
    await showsExactly(ben, 'ben', 'Ben sees the check-in of g12');
    assert.ok(
      (await shown(ben)).every((entry) => entry.startsWith('g12/')),
      'Ben never sees another group',
    );

    // The hook, not the client, chooses: a token alone subscribes Ben to his group, and naming another group is refused.
    const benToken = await tokenFor('ben');
    const stream = await fetch(`${stack.hub.url}/events?token=${benToken}`, { signal: AbortSignal.timeout(5000) });
    assert.equal(stream.status, 200);
    const reader = stream.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    assert.match(first, /"topics":\["groups\/g12"\]/, first);
    const refused = await fetch(`${stack.hub.url}/events?topic=groups%2Fg7&token=${benToken}`);
    assert.equal(refused.status, 403, await refused.text());

    // A check-out reaches the supervisor too.
    const response = await fetch(`${stack.url}api/groups/g7/checkins/s1`, { method: 'DELETE' });
    assert.equal(response.status, 204);
    await showsExactly(anna, 'anna', 'the check-out removed the student');

    // Anna no longer supervises g9: the hub's re-check ends that subscription, the page drops the group.
    assert.equal((await fetch(`${stack.url}api/supervisors/anna/groups/g9`, { method: 'DELETE' })).status, 204);
    await waitUntil(async () => JSON.stringify(await groupsShown(anna)) === '["g7"]', "g9 gone from Anna's page", 10_000);
    await checkIn('g9', 'r4');
    await checkIn('g7', 'r1');
    await showsExactly(anna, 'anna', "Anna sees g7's new check-in, not g9's");
    assert.ok(!(await shown(anna)).some((entry) => entry.startsWith('g9/')), 'no g9 check-in on Anna’s page after the revocation');

    // Tokens expire every few seconds: over more than three lifetimes the page refreshes
    // them and never leaves `connected`, and every check-in in between arrives.
    const before = (await statesSeen(anna)).length;
    for (let i = 0; i < 5; i += 1) {
      await checkIn('g7', i % 2 === 0 ? 'r1' : 'r2');
      await new Promise((resolve) => setTimeout(resolve, (2 * TOKEN_SECONDS * 1000) / 5 + 500));
    }
    await showsExactly(anna, 'anna', 'every check-in while the tokens expired and were refreshed');
    assert.deepEqual((await statesSeen(anna)).slice(before), [], 'the status stayed connected while tokens were refreshed');
    assert.equal(await stateOf(anna), 'connected');

    // The hub restarts: the dot goes reconnecting, check-ins made meanwhile are delivered once it is back.
    await stack.hub.stop();
    for (const page of [anna, ben]) await waitUntil(async () => (await stateOf(page)) === 'reconnecting', 'a page reconnecting', 10_000);
    await checkIn('g7', 'r2');
    await checkIn('g12', 'r5');
    await stack.hub.start();
    await checkIn('g7', 'r1');
    for (const page of [anna, ben]) await waitUntil(async () => (await stateOf(page)) === 'connected', 'a page connected again', 20_000);
    await showsExactly(anna, 'anna', 'Anna missed nothing across the restart');
    await showsExactly(ben, 'ben', 'Ben missed nothing across the restart');
    assert.deepEqual(await groupsShown(anna), ['g7'], 'the revoked group stays gone after reconnecting');

    const screenshot = join(SCREENSHOTS, 'example-check-in-rooms.png');
    await anna.screenshot({ path: screenshot });
    if (process.env['HERALD_UPDATE_SCREENSHOTS'] === '1')
      copyFileSync(screenshot, fileURLToPath(new URL('../../../docs/images/example-check-in-rooms.png', import.meta.url)));
    await anna.close();
    await ben.close();
  });
});
