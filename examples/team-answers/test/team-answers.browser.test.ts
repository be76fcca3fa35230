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
import { startTeamAnswersStack, type TeamAnswersStack } from '../server/stack.js';

const SCREENSHOTS = fileURLToPath(new URL('../../../test-output/', import.meta.url));
const REDIS = redisUrl();
const skip = await exampleSkipReason('team-answers', { redis: REDIS });

/** The rows a user sees: id and video name, top to bottom. */
const rows = (page: Page): Promise<string[]> =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('#answers tbody tr')].map((tr) => `${tr.dataset['answer']} ${tr.querySelector('.video')?.textContent}`),
  );
const stateOf = async (page: Page): Promise<string> => (await page.locator('#status').getAttribute('data-state')) ?? '';

describe('example: team answers (app server + Redis channel + herald serve --redis-bridge + React page in Chromium)', { skip }, () => {
  const work = mkdtempSync(join(tmpdir(), 'herald-team-answers-'));
  const tag = `${process.pid}-${Date.now()}`;
  const prefix = `herald-test-team-answers-${tag}:`;
  const hubLog = new HubLog();
  let stack: TeamAnswersStack;
  let browser: Browser;

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    stack = await startTeamAnswersStack({
      appPort: 0,
      hubPort: 0,
      redisUrl: REDIS,
      redisPrefix: prefix,
      // A channel of this run's own: another run's messages must never reach this hub.
      channel: `team_answers_updates-${tag}`,
      pageDir: join(work, 'dist'),
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

  it('two users see creates, a delete and delete-all live over SSE; across a hub restart the dot goes reconnecting and back, and the list stays right', async () => {
    const create = async (video: string): Promise<void> => {
      const response = await fetch(`${stack.url}api/team-answers/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ video_name: video, frame_index: 100, url: 'http://example.com/frame.jpg', qa: `answer for ${video}` }),
      });
      assert.equal(response.status, 201, await response.text());
    };
    const expected = (): string[] => stack.store.list().map((a) => `${a.id} ${a.video_name}`);
    const bothShow = async (what: string, timeoutMs = 10_000): Promise<void> => {
      const want = JSON.stringify(expected());
      await waitUntil(async () => JSON.stringify(await rows(alice)) === want && JSON.stringify(await rows(bob)) === want, what, timeoutMs).catch(
        async (error: Error) => {
          assert.deepEqual({ alice: await rows(alice), bob: await rows(bob) }, { alice: expected(), bob: expected() }, error.message);
        },
      );
    };

    await create('before-load.mp4');
    const alice = await browser.newPage({ viewport: { width: 1100, height: 560 } });
    const bob = await browser.newPage({ viewport: { width: 1100, height: 560 } });
    await Promise.all([alice.goto(stack.url), bob.goto(stack.url)]);
    for (const page of [alice, bob]) await waitUntil(async () => (await stateOf(page)) === 'connected', 'a page connected over SSE', 15_000);
    assert.match(await alice.locator('#status').innerText(), /Connected/);
    await bothShow('both pages loaded the answer made before they opened');

    // Alice adds one with the form; Bob sees it without doing anything.
    await alice.locator('input[name=video_name]').fill('match-03.mp4');
    await alice.locator('input[name=frame_index]').fill('4711');
    await alice.locator('input[name=qa]').fill('the goal at 12:40');
    await alice.locator('#new-answer button[type=submit]').click();
    for (const video of ['a.mp4', 'b.mp4', 'c.mp4']) await create(video);
    await bothShow('the form and three API creates on both pages');
    assert.equal(await bob.locator('#count').innerText(), '5');

    // Bob deletes one: the team's `delete` carries [id].
    const target = stack.store.list().find((a) => a.video_name === 'b.mp4')!;
    await bob.locator(`tr[data-answer="${target.id}"] button.delete`).click();
    await waitUntil(() => stack.store.list().every((a) => a.id !== target.id), 'the app server deleted it');
    await bothShow('the deleted answer gone from both pages');

    // The hub restarts; changes made once it is back reach both pages, once each.
    await stack.hub.stop();
    for (const page of [alice, bob]) await waitUntil(async () => (await stateOf(page)) === 'reconnecting', 'a page reconnecting', 10_000);
    await alice.screenshot({ path: join(SCREENSHOTS, 'example-team-answers-reconnecting.png') });
    await stack.hub.start();
    await create('after-restart-1.mp4');
    await create('after-restart-2.mp4');
    for (const page of [alice, bob]) await waitUntil(async () => (await stateOf(page)) === 'connected', 'a page connected again', 15_000);
    await bothShow('the answers made after the restart on both pages');

    const screenshot = join(SCREENSHOTS, 'example-team-answers.png');
    await alice.screenshot({ path: screenshot });
    if (process.env['HERALD_UPDATE_SCREENSHOTS'] === '1')
      copyFileSync(screenshot, fileURLToPath(new URL('../../../docs/images/example-team-answers.png', import.meta.url)));

    // Alice deletes everything: one `delete` with every id.
    await alice.locator('#delete-all').click();
    await waitUntil(() => stack.store.list().length === 0, 'the app server deleted all');
    await bothShow('both lists empty after delete-all');
    await alice.close();
    await bob.close();
  });
});
