// Building an example's React page with Vite and serving the result from the app server.
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { build } from 'vite';

/** Builds the Vite app rooted at `root` (its index.html) into `outDir`. */
export async function buildPage(root: string, outDir: string): Promise<void> {
  await build({ root, configFile: false, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Answers GET `path` with the file under `dir` (`/` is index.html); 404 outside it or when absent. */
export async function serveFile(dir: string, path: string, res: ServerResponse): Promise<void> {
  const file = normalize(join(dir, path === '/' ? 'index.html' : decodeURIComponent(path)));
  if (!file.startsWith(dir.endsWith(sep) ? dir : dir + sep)) return void res.writeHead(404).end();
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }
}
