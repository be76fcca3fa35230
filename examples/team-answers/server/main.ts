// `npm run example -- team-answers`: starts the team answers app and prints where to open it.
import { runExample } from '../../shared/run-example.js';
import { startTeamAnswersStack } from './stack.js';

await runExample({
  name: 'team-answers',
  title: 'Team answers app',
  hubNote: 'herald serve --redis-bridge team_answers_updates=team-answers',
  tryItIntro: 'Open it in two tabs, or change the data with curl:',
  tryIt: (url) => [
    `curl -X POST ${url}api/team-answers/ -H 'content-type: application/json' -d '{"video_name":"test.mp4","frame_index":100,"url":"http://example.com"}'`,
    `curl -X DELETE ${url}api/team-answers/delete-all/`,
  ],
  start: startTeamAnswersStack,
  folder: new URL('..', import.meta.url),
});
