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
import { startSportsStack, type SportsStack } from '../server/stack.js';

const SCREENSHOTS = fileURLToPath(new URL('../../../test-output/', import.meta.url));
const REDIS = redisUrl();
const skip = await exampleSkipReason('sports', { redis: REDIS });

/** What the page shows, read as a user reads it. */
async function shown(page: Page): Promise<{ table: string[]; fixtures: string[]; announcements: string[] }> {
  return page.evaluate(() => ({
    table: [...document.querySelectorAll('#leaderboard tbody tr')].map(
      (tr) => `${tr.querySelector('.team')?.textContent} ${tr.querySelector('.pts')?.textContent}`,
    ),
    fixtures: [...document.querySelectorAll<HTMLElement>('#schedule li')].map(
      (li) => `${li.dataset['fixture']} ${li.dataset['status']} ${li.querySelector('.teams')?.textContent}`,
    ),
    announcements: [...document.querySelectorAll('#announcements .title')].map((el) => el.textContent ?? ''),
  }));
}

/** The same, from the app server's data: what the page must show once it has caught up. */
function expected(stack: SportsStack): Awaited<ReturnType<typeof shown>> {
  const { service } = stack;
  return {
    table: service.leaderboard().map((row) => `${row.team_name} ${row.pts}`),
    fixtures: service
      .schedule()
      .map((f) => `${f.id} ${f.status} ${f.home_team.name} ${f.home_score === null ? 'vs' : `${f.home_score}–${f.away_score}`} ${f.away_team.name}`),
    announcements: service.announcements().map((a) => a.title),
  };
}

async function statusOf(page: Page): Promise<{ state: string; transport: string }> {
  const status = page.locator('#status');
  return { state: (await status.getAttribute('data-state')) ?? '', transport: (await status.getAttribute('data-transport')) ?? '' };
}

/** Records, in `window.reloads`, each time a panel starts loading its list again (a `reset` from the hub does that). */
async function countReloads(page: Page): Promise<void> {
  await page.evaluate(() => {
    const reloads: string[] = [];
    (window as unknown as { reloads: string[] }).reloads = reloads;
    const observer = new MutationObserver((changes) => {
      for (const change of changes) {
        const panel = change.target as HTMLElement;
        if (panel.dataset['state'] === 'loading') reloads.push(panel.id);
      }
    });
    for (const id of ['leaderboard', 'schedule', 'announcements']) {
      observer.observe(document.getElementById(id)!, { attributes: true, attributeFilter: ['data-state'] });
    }
  });
}

async function caughtUp(page: Page, stack: SportsStack, what: string, timeoutMs = 10_000): Promise<void> {
  await waitUntil(async () => JSON.stringify(await shown(page)) === JSON.stringify(expected(stack)), what, timeoutMs).catch(async (error: Error) => {
    assert.deepEqual(await shown(page), expected(stack), error.message);
  });
}

describe('example: sports events (app server + herald serve + React page in Chromium)', { skip }, () => {
  const work = mkdtempSync(join(tmpdir(), 'herald-sports-'));
  const prefix = `herald-test-sports-${process.pid}-${Date.now()}:`;
  const hubLog = new HubLog();
  let stack: SportsStack;
  let browser: Browser;

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    stack = await startSportsStack({ appPort: 0, hubPort: 0, redisUrl: REDIS, redisPrefix: prefix, pageDir: join(work, 'dist'), hubOutput: hubLog.output });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
    rmSync(work, { recursive: true, force: true });
    // The hub's log of this run, left in Redis, is of no use to anyone.
    await dropRedisPrefix(REDIS, prefix);
    hubLog.show();
  });

  it('the board and schedule update live; across a hub restart the dot goes reconnecting, then connected, with nothing missed; SSE works too', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const api = async (method: string, path: string, body?: unknown): Promise<void> => {
      const response = await fetch(`${stack.url}api/events/1/${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      assert.ok(response.ok, `${method} ${path}: ${response.status} ${await response.text()}`);
    };

    await page.goto(stack.url);
    await waitUntil(async () => (await statusOf(page)).state === 'connected', 'the dot connected', 15_000);
    await caughtUp(page, stack, 'the page loaded the event');
    await countReloads(page);
    assert.equal((await statusOf(page)).transport, 'websocket', 'Chromium connects over WebSocket');
    assert.equal((await page.locator('#status').innerText()).split('·')[0]!.trim(), 'Live');

    // The scorekeeper records a result: the table reorders and the fixture is finished, without a reload.
    await api('POST', 'results', { fixture_id: 101, home_score: 2, away_score: 1 });
    await waitUntil(async () => (await shown(page)).table[0] === 'Harbour Hawks 3', 'the leader changed live');
    await api('POST', 'fixtures', { home_team_id: 3, away_team_id: 1, start_at: '2026-12-20T15:00:00Z', venue: 'Pitch 2' });
    await api('PATCH', 'fixtures/104', { start_at: '2026-12-21T18:30:00Z' });
    await api('POST', 'announcements', { title: 'Gates open', message: 'Gates open at 9:00', priority: 'normal' });
    await caughtUp(page, stack, 'a new fixture, a rescheduled one and an announcement shown live');

    // The hub restarts. The app server keeps changing data meanwhile (its publishes wait for the hub).
    await stack.hub.stop();
    await waitUntil(async () => (await statusOf(page)).state === 'reconnecting', 'the dot reconnecting', 10_000);
    await page.screenshot({ path: join(SCREENSHOTS, 'example-sports-reconnecting.png') });
    await api('POST', 'results', { fixture_id: 102, home_score: 0, away_score: 3 });
    await api('PATCH', 'fixtures/103', { status: 'POSTPONED' });
    await api('DELETE', 'fixtures/106');
    await api('POST', 'announcements', { title: 'Match delayed', message: 'The 3 PM match is delayed by 30 minutes', priority: 'high' });
    assert.ok(stack.publisher.pending > 0, 'the changes wait for the hub');
    await stack.hub.start();
    await waitUntil(async () => (await statusOf(page)).state === 'connected', 'the dot connected again', 15_000);
    await caughtUp(page, stack, 'every change made during the restart on the page');
    // The hub's log is in Redis, so the page resumed where it was: no panel had to load its list again.
    assert.deepEqual(await page.evaluate(() => (window as unknown as { reloads: string[] }).reloads), [], 'resumed, not reloaded');

    // A second page on the SSE fallback (the team's EventSource path) gets the next change as well.
    const ssePage = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await ssePage.goto(`${stack.url}?transport=sse`);
    await waitUntil(async () => (await statusOf(ssePage)).state === 'connected', 'the SSE page connected', 15_000);
    assert.equal((await statusOf(ssePage)).transport, 'sse');
    await caughtUp(ssePage, stack, 'the SSE page loaded');
    await api('POST', 'results', { fixture_id: 105, home_score: 1, away_score: 1 });
    await caughtUp(page, stack, 'the WebSocket page got the draw');
    await caughtUp(ssePage, stack, 'the SSE page got the draw');

    const screenshot = join(SCREENSHOTS, 'example-sports.png');
    await page.screenshot({ path: screenshot });
    if (process.env['HERALD_UPDATE_SCREENSHOTS'] === '1')
      copyFileSync(screenshot, fileURLToPath(new URL('../../../docs/images/example-sports.png', import.meta.url)));
    await ssePage.close();
    await page.close();
  });
});
