// `npm run example -- sports`: starts the sports events app and prints where to open it.
import { fileURLToPath } from 'node:url';
import { MissingServiceError, redisUrl } from '../../shared/services.js';
import { startSportsStack } from './stack.js';

const port = (name: string, fallback: number): number => {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : Number(raw);
};

try {
  const stack = await startSportsStack({
    appPort: port('PORT', 3000),
    hubPort: port('HUB_PORT', 8080),
    redisUrl: redisUrl(),
    redisPrefix: 'herald-example-sports:',
    pageDir: fileURLToPath(new URL('../dist/', import.meta.url)),
  });
  process.stdout.write(
    [
      '',
      `  Sports events app:  ${stack.url}`,
      `  Herald hub:         ${stack.hub.url} (herald serve, log in Redis)`,
      '',
      '  Change the data and watch the page (a second tab, or curl):',
      `    curl -X POST ${stack.url}api/events/1/results -H 'content-type: application/json' -d '{"fixture_id":101,"home_score":2,"away_score":1}'`,
      `    curl -X POST ${stack.url}api/events/1/announcements -H 'content-type: application/json' -d '{"title":"Kick-off","message":"Pitch 1 starts in 5 minutes","priority":"high"}'`,
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
    process.stderr.write(`\na port is taken (${(error as Error).message}); choose others with PORT=… HUB_PORT=… npm run example -- sports\n\n`);
    process.exit(2);
  }
  throw error;
}
