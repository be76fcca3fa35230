// What every `npm run example -- <name>` entry point does: start the app's stack
// on PORT / HUB_PORT (default 3000 / 8080) with the local Redis, print where to
// open it and how to change its data, stop cleanly on Ctrl-C, and turn a missing
// service or a taken port into one clear line and exit code 2.
import { fileURLToPath } from 'node:url';
import { MissingServiceError, redisUrl } from './services.js';

/** What every example's stack takes from its entry point. */
interface ExampleSettings {
  appPort: number;
  hubPort: number;
  redisUrl: string;
  redisPrefix: string;
  pageDir: string;
}

/** What an example's stack gives back. */
interface RunningExample {
  /** The page, e.g. `http://127.0.0.1:3000/`. */
  url: string;
  hub: { url: string };
  close(): Promise<void>;
}

export interface ExampleEntry {
  /** The name after `npm run example --`. */
  name: string;
  /** How the app is named in the banner, e.g. `Sports events app`. */
  title: string;
  /** How the hub runs, shown after its URL. */
  hubNote: string;
  /** The line before the `curl` lines. */
  tryItIntro: string;
  /** `curl` commands that change the data, given the page URL. */
  tryIt(url: string): string[];
  start(settings: ExampleSettings): Promise<RunningExample>;
  /** The example's own folder (`new URL('..', import.meta.url)` from its server/). */
  folder: URL;
}

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : Number(raw);
}

export async function runExample(entry: ExampleEntry): Promise<void> {
  try {
    const stack = await entry.start({
      appPort: port('PORT', 3000),
      hubPort: port('HUB_PORT', 8080),
      redisUrl: redisUrl(),
      redisPrefix: `herald-example-${entry.name}:`,
      pageDir: fileURLToPath(new URL('dist/', entry.folder)),
    });
    const width = Math.max(entry.title.length, 'Herald hub'.length) + 2;
    process.stdout.write(
      [
        '',
        `  ${`${entry.title}:`.padEnd(width)}${stack.url}`,
        `  ${'Herald hub:'.padEnd(width)}${stack.hub.url} (${entry.hubNote})`,
        '',
        `  ${entry.tryItIntro}`,
        ...entry.tryIt(stack.url).map((line) => `    ${line}`),
        '',
        '  Ctrl-C stops both.',
        '',
      ].join('\n'),
    );
    const stop = (): void => {
      process.stdout.write('stopping…\n');
      void stack.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (error) {
    if (error instanceof MissingServiceError) {
      process.stderr.write(`\n${error.message}\n\n`);
      process.exit(2);
    }
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      process.stderr.write(`\na port is taken (${(error as Error).message}); choose others with PORT=… HUB_PORT=… npm run example -- ${entry.name}\n\n`);
      process.exit(2);
    }
    throw error;
  }
}
