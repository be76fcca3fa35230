// The whole check-in rooms example: the app server (login, tokens, data, the authorization
// hook) and the hub (`herald serve` with a JWT secret, the hook and its periodic re-check,
// its log in Redis), and the built page the app serves.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { HubProcess } from '../../shared/hub-process.js';
import { closeAppServer, exampleHub, openAppServer, startHub } from '../../shared/app-stack.js';
import { buildPage } from '../../shared/page.js';
import { HttpPublisher } from '../../shared/publisher.js';
import { requireServices } from '../../shared/services.js';
import { handleRequest, type AppContext } from './api.js';
import { seedSchool, type School } from './school.js';
import { TokenIssuer } from './tokens.js';

export interface CheckInStackOptions {
  appPort: number;
  hubPort: number;
  redisUrl: string;
  /** Prefix of the hub's Redis keys, so two runs never share a log. */
  redisPrefix: string;
  pageDir: string;
  /** How long a minted token lives. Default 15 minutes, as the team's; tests use seconds. */
  tokenLifetimeSeconds?: number;
  /** How often the hub re-checks live subscriptions against the hook. Default `5s`. */
  reauthorizeInterval?: string;
  hubOutput?: NodeJS.WritableStream;
}

export interface CheckInStack {
  url: string;
  hub: HubProcess;
  school: School;
  publisher: HttpPublisher;
  close(): Promise<void>;
}

const WEB_ROOT = fileURLToPath(new URL('../web/', import.meta.url));

export async function startCheckInStack(options: CheckInStackOptions): Promise<CheckInStack> {
  await requireServices('check-in-rooms', [
    {
      name: 'Redis',
      url: options.redisUrl,
      hint: 'the hub keeps its event log there, so a page resumes across a hub restart. Start it (`redis-server`, or `docker run -p 6379:6379 redis`) or set REDIS_URL',
    },
  ]);
  await buildPage(WEB_ROOT, options.pageDir);

  const appServer = await openAppServer(options.appPort, options.hubPort);
  const { server, origin: appOrigin } = appServer;
  // Fresh secrets each run: only this app mints tokens, publishes, and answers the hook.
  const jwtSecret = randomBytes(32).toString('hex');
  const publishKey = randomBytes(24).toString('hex');
  const hookPath = `/hook/authorize/${randomBytes(12).toString('hex')}`;
  const hub = exampleHub(
    appServer,
    [
      '--redis',
      options.redisUrl,
      '--redis-prefix',
      options.redisPrefix,
      '--jwt-secret',
      jwtSecret,
      '--publish-key',
      publishKey,
      '--authorize-url',
      `${appOrigin}${hookPath}`,
      '--reauthorize-interval',
      options.reauthorizeInterval ?? '5s',
      // A revoked supervision must not be answered from the cache at the next re-check.
      '--authorize-cache-ttl',
      '0',
      '--heartbeat',
      '10s',
    ],
    options.hubOutput,
  );
  // The hook is served by this server, so it must answer before the hub asks it.
  const school = seedSchool();
  const publisher = new HttpPublisher({ hubUrl: hub.url, publishKey, idPrefix: `check-in-${Date.now().toString(36)}` });
  const app: AppContext = {
    school,
    tokens: new TokenIssuer(jwtSecret, options.tokenLifetimeSeconds ?? 15 * 60),
    publisher,
    hookPath,
    hubUrl: hub.url,
    pageDir: options.pageDir,
    sessions: new Map(),
  };
  server.on('request', (req, res) => void handleRequest(app, req, res));
  await startHub(appServer, hub);

  return {
    url: `${appOrigin}/`,
    hub,
    school,
    publisher,
    async close() {
      publisher.close();
      await closeAppServer(appServer);
      await hub.stop();
    },
  };
}
