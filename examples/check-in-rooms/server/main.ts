// `npm run example -- check-in-rooms`: starts the check-in rooms app and prints where to open it.
import { runExample } from '../../shared/run-example.js';
import { startCheckInStack } from './stack.js';

await runExample({
  name: 'check-in-rooms',
  title: 'Check-in rooms app',
  hubNote: 'herald serve --jwt-secret … --authorize-url <app>/hook/… --reauthorize-interval 5s',
  tryItIntro: 'Log in as Anna in one tab and Ben in another, then check students in and out, or revoke a supervision:',
  tryIt: (url) => [
    `curl -X POST ${url}api/groups/g7/checkins -H 'content-type: application/json' -d '{"student_id":"s1","student_name":"Mia","room_id":"r1"}'`,
    `curl -X DELETE ${url}api/groups/g7/checkins/s1`,
    `curl -X DELETE ${url}api/supervisors/anna/groups/g9`,
  ],
  start: startCheckInStack,
  folder: new URL('..', import.meta.url),
});
