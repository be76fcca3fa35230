import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { createHub, type Hub } from '../../server/src/index.js';
import { CuttableProxy, startHub, waitUntil, type RunningHub } from '../../client/test/helpers/setup.js';
import { CHROMIUM, chromiumMissing } from './helpers/chromium.js';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const SCREENSHOTS = fileURLToPath(new URL('../../../test-output/', import.meta.url));
const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/**
 * Without Chromium the browser suite is skipped with one loud line, unless
 * HERALD_REQUIRE_BROWSER=1 (as in .ci/run), which makes a missing browser a failure.
 */
function browserSkipReason(): string | false {
  const message = chromiumMissing();
  if (message === undefined) return false;
  if (process.env['HERALD_REQUIRE_BROWSER'] === '1')
    throw new Error(`${message}, and HERALD_REQUIRE_BROWSER=1: install Debian's with \`apt-get install chromium\``);
  process.stderr.write(`\n*** SKIPPING browser tests: ${message}. Install Debian's Chromium with \`apt-get install chromium\` (.ci/run does). ***\n\n`);
  return message;
}
const skip = browserSkipReason();

interface Todo {
  id: number;
  text: string;
}

/** Builds test/browser-app with Vite into `outDir`, using the packages' sources. */
async function buildApp(outDir: string): Promise<void> {
  await build({
    root: here('./browser-app'),
    configFile: false,
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
    resolve: { alias: { '@herald/react': here('../src/index.ts'), '@herald/client': here('../../client/src/index.ts') } },
    esbuild: { jsx: 'automatic' },
  });
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

/**
 * The app's server: the built page, a JSON API (`/api/todos`) and the hub embedded
 * under `/hub`, all on one origin, as an app would deploy it.
 */
async function appServer(dir: string, hub: Hub, todos: Todo[], alerts: unknown[] = []): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (hub.handleRequest(req, res)) return;
    const path = new URL(req.url ?? '/', 'http://app').pathname;
    if (path === '/api/todos' || path === '/api/alerts') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(path === '/api/todos' ? todos : alerts));
      return;
    }
    const file = normalize(join(dir, path === '/' ? 'index.html' : path));
    if (!file.startsWith(dir)) return void res.writeHead(404).end();
    let body: Buffer;
    try {
      body = readFileSync(file);
    } catch {
      return void res.writeHead(404).end();
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
  });
  hub.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('browser: React page in Chromium (real hub)', { skip }, () => {
  const work = mkdtempSync(join(tmpdir(), 'herald-browser-'));
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM}: install Debian's with \`apt-get install chromium\` (.ci/run does)`);
    context = await chromium.launchPersistentContext(join(work, 'profile'), { executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    page = context.pages()[0] ?? (await context.newPage());
  });
  after(async () => {
    await context?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('useLiveList shows events live, useConnectionState shows reconnecting during an outage and connected after, and the list is complete', async () => {
    const todos: Todo[] = [
      { id: 1, text: 'loaded-1' },
      { id: 2, text: 'loaded-2' },
    ];
    const dist = join(work, 'dist');
    await buildApp(dist);
    const hub = createHub({ logger: false, basePath: '/hub', heartbeatInterval: 1000, shutdownTimeout: 500, shutdownJitter: 10 });
    const { server, port } = await appServer(dist, hub, todos);
    const proxy = await CuttableProxy.start(port);
    try {
      /** Changes the "database" the API serves, then publishes the event, as an app server would. */
      const create = async (id: number): Promise<void> => {
        const todo = { id, text: `todo-${id}` };
        todos.push(todo);
        await hub.publish({ topic: 'todos', type: 'create', data: todo });
      };
      const text = (selector: string): Promise<string> => page.locator(selector).innerText();
      const items = (): Promise<string[]> => page.locator('#items li').allInnerTexts();

      await page.goto(`${proxy.url}/`);
      await waitUntil(async () => (await text('#state')) === 'connected' && (await text('#list-state')) === 'ready', 'the page connected and loaded', 15_000);
      assert.deepEqual(await items(), ['loaded-1', 'loaded-2']);

      for (let id = 3; id <= 5; id++) await create(id);
      await waitUntil(async () => (await items()).length === 5, 'three live events on the page');

      // The hub goes away: connections cut, new ones refused. Events keep being published.
      proxy.down();
      await waitUntil(async () => (await text('#state')) === 'reconnecting', 'the page showing reconnecting', 10_000);
      for (let id = 6; id <= 10; id++) await create(id);
      await page.screenshot({ path: join(SCREENSHOTS, 'browser-live-list-outage.png') });

      proxy.up();
      await waitUntil(async () => (await text('#state')) === 'connected' && (await items()).length === 10, 'connected again with the list complete', 20_000);
      await create(11);
      await waitUntil(async () => (await items()).length === 11, 'live again after the outage');
      assert.deepEqual(
        await items(),
        todos.map((t) => t.text),
      );
      await page.screenshot({ path: join(SCREENSHOTS, 'browser-live-list.png') });
    } finally {
      await proxy.close();
      await hub.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('useLiveList applies change events through a filter (rows leaving it, deletes on the old row) and bulk deletes', async () => {
    const dist = join(work, 'dist-changes');
    await buildApp(dist);
    const hub = createHub({ logger: false, basePath: '/hub', heartbeatInterval: 1000, shutdownTimeout: 500, shutdownJitter: 10 });
    const row = (id: number, session_id: string, resolved: boolean) => ({ id, session_id, resolved });
    const { server, port } = await appServer(
      dist,
      hub,
      [1, 2, 3].map((id) => ({ id, text: `loaded-${id}` })),
      [row(1, 's1', false)],
    );
    try {
      const change = (type: 'insert' | 'update' | 'delete', data: object | null, old: object | null) =>
        hub.publish({ topic: 'alerts', type, data: { table: 'alerts', action: type.toUpperCase(), data, old_data: old, timestamp: new Date().toISOString() } });
      const list = (selector: string): Promise<string[]> => page.locator(`${selector} li`).allInnerTexts();
      await page.goto(`http://127.0.0.1:${port}/`);
      await waitUntil(async () => (await page.locator('#list-state').innerText()) === 'ready' && (await list('#alerts')).length === 1, 'loaded', 15_000);
      await change('insert', row(2, 's1', false), null);
      await change('insert', row(3, 's1', true), null);
      await change('insert', row(4, 's2', false), null);
      await change('insert', row(5, 's1', false), null);
      await waitUntil(async () => (await list('#alerts')).join() === 'alert-1,alert-2,alert-5', 'inserts through the filter');
      await change('update', row(1, 's1', true), row(1, 's1', false));
      await change('delete', null, row(2, 's1', false));
      await change('update', row(4, 's1', false), row(4, 's2', false));
      await hub.publish({ topic: 'todos', type: 'delete', data: [1, 3] });
      await waitUntil(
        async () => (await list('#alerts')).join() === 'alert-5,alert-4' && (await list('#items')).join() === 'loaded-2',
        'alert 1 resolved (a removal), alert 2 deleted, alert 4 moved into the view; todos 1 and 3 bulk-deleted',
      );
      await page.screenshot({ path: join(SCREENSHOTS, 'browser-live-list-changes.png') });
    } finally {
      await hub.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('the hub demo page (served at / by herald serve) uses the SDK', async () => {
    let running: RunningHub | undefined;
    try {
      running = await startHub({ demo: true });
      await page.goto(`${running.url}/`);
      await waitUntil(async () => (await page.locator('#status').innerText()).startsWith('connected'), 'the demo page connected', 15_000);
      assert.equal(await page.evaluate(() => typeof (window as unknown as { Herald?: { createClient?: unknown } }).Herald?.createClient), 'function');
      await page.locator('#pdata').fill('{"text":"from the browser test"}');
      await page.locator('#publish button').click();
      await waitUntil(
        async () => (await page.locator('#events li').allInnerTexts()).some((t) => t.includes('from the browser test')),
        'the published event in the list',
      );
      assert.match(await page.locator('#result').innerText(), /^published /);
      await page.screenshot({ path: join(SCREENSHOTS, 'browser-demo-page.png') });
    } finally {
      await running?.close();
    }
  });
});
