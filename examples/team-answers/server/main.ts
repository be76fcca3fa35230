// `npm run example -- team-answers`: starts the team answers app and prints where to open it.
import { fileURLToPath } from 'node:url';
import { MissingServiceError, redisUrl } from '../../shared/services.js';
import { startTeamAnswersStack } from './stack.js';

const port = (name: string, fallback: number): number => {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : Number(raw);
};

try {
  const stack = await startTeamAnswersStack({
    appPort: port('PORT', 3000),
    hubPort: port('HUB_PORT', 8080),
    redisUrl: redisUrl(),
    redisPrefix: 'herald-example-team-answers:',
    pageDir: fileURLToPath(new URL('../dist/', import.meta.url)),
  });
  process.stdout.write(
    [
      '',
      `  Team answers app:  ${stack.url}`,
      `  Herald hub:        ${stack.hub.url} (herald serve --redis-bridge team_answers_updates=team-answers)`,
      '',
      '  Open it in two tabs, or change the data with curl:',
      `    curl -X POST ${stack.url}api/team-answers/ -H 'content-type: application/json' -d '{"video_name":"test.mp4","frame_index":100,"url":"http://example.com"}'`,
      `    curl -X DELETE ${stack.url}api/team-answers/delete-all/`,
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
    process.stderr.write(`\na port is taken (${(error as Error).message}); choose others with PORT=… HUB_PORT=… npm run example -- team-answers\n\n`);
    process.exit(2);
  }
  throw error;
}
