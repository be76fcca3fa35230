// The whole team answers example: the hub (`herald serve` bridging the Redis channel the
// back end already publishes to), the app server that owns the answers, and the built page.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { HubProcess } from '../../shared/hub-process.js';
import { closeAppServer, exampleHub, openAppServer, startHub } from '../../shared/app-stack.js';
import { buildPage } from '../../shared/page.js';
import { requireServices } from '../../shared/services.js';
import { AnswerStore } from './answers.js';
import { handleRequest, type PageConfig } from './api.js';
import { CHANNEL, RedisNotifier } from './notifier.js';

/** The topic the bridge publishes the channel's messages to. */
const TOPIC = 'team-answers';

export interface TeamAnswersStackOptions {
  appPort: number;
  hubPort: number;
  redisUrl: string;
  /** Prefix of the hub's Redis keys, so two runs never share a log. */
  redisPrefix: string;
  /** The channel the app publishes on. Default `team_answers_updates`; tests use their own so runs never cross. */
  channel?: string;
  pageDir: string;
  hubOutput?: NodeJS.WritableStream;
}

export interface TeamAnswersStack {
  url: string;
  hub: HubProcess;
  store: AnswerStore;
  close(): Promise<void>;
}

const WEB_ROOT = fileURLToPath(new URL('../web/', import.meta.url));

export async function startTeamAnswersStack(options: TeamAnswersStackOptions): Promise<TeamAnswersStack> {
  await requireServices('team-answers', [
    {
      name: 'Redis',
      url: options.redisUrl,
      hint: 'the app publishes its changes on a Redis channel, and the hub keeps its log there. Start it (`redis-server`, or `docker run -p 6379:6379 redis`) or set REDIS_URL',
    },
  ]);
  await buildPage(WEB_ROOT, options.pageDir);

  const appServer = await openAppServer(options.appPort, options.hubPort);
  const { server, origin: appOrigin } = appServer;
  const channel = options.channel ?? CHANNEL;
  const hub = exampleHub(
    appServer,
    [
      '--redis',
      options.redisUrl,
      '--redis-prefix',
      options.redisPrefix,
      '--redis-bridge',
      `${channel}=${TOPIC}`,
      // Events come only from the bridge; a key nobody is given closes HTTP publishing.
      '--publish-key',
      randomBytes(24).toString('hex'),
      // The team's page counted on a heartbeat; the hub sends one on every connection.
      '--heartbeat',
      '10s',
    ],
    options.hubOutput,
  );
  await startHub(appServer, hub);

  const store = new AnswerStore();
  const notifier = new RedisNotifier(options.redisUrl, channel);
  const config: PageConfig = { hubUrl: hub.url, topic: TOPIC };
  server.on('request', (req, res) => void handleRequest(store, notifier, config, options.pageDir, req, res));

  return {
    url: `${appOrigin}/`,
    hub,
    store,
    async close() {
      await closeAppServer(appServer);
      await notifier.close();
      await hub.stop();
    },
  };
}
