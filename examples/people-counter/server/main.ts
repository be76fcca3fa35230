// `npm run example -- people-counter`: starts the people counter app and prints where to open it.
import { runExample } from '../../shared/run-example.js';
import { startPeopleCounterStack } from './stack.js';

await runExample({
  name: 'people-counter',
  title: 'People counter app',
  hubNote: 'herald serve --postgres, change capture with herald pg triggers',
  tryItIntro: 'A simulated door sensor moves people every 2 s; move some yourself with curl:',
  tryIt: (url) => [
    `curl -X POST ${url}api/sessions/lobby/movements -H 'content-type: application/json' -d '{"direction":"in","count":5}'`,
    `psql ${process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'} -c "UPDATE people_counter.alert_logs SET resolved = true"`,
  ],
  start: (settings) => startPeopleCounterStack({ ...settings, simulateEveryMs: 2000 }),
  folder: new URL('..', import.meta.url),
});
