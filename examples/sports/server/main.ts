// `npm run example -- sports`: starts the sports events app and prints where to open it.
import { runExample } from '../../shared/run-example.js';
import { startSportsStack } from './stack.js';

await runExample({
  name: 'sports',
  title: 'Sports events app',
  hubNote: 'herald serve, log in Redis',
  tryItIntro: 'Change the data and watch the page (a second tab, or curl):',
  tryIt: (url) => [
    `curl -X POST ${url}api/events/1/results -H 'content-type: application/json' -d '{"fixture_id":101,"home_score":2,"away_score":1}'`,
    `curl -X POST ${url}api/events/1/announcements -H 'content-type: application/json' -d '{"title":"Kick-off","message":"Pitch 1 starts in 5 minutes","priority":"high"}'`,
  ],
  start: startSportsStack,
  folder: new URL('..', import.meta.url),
});
