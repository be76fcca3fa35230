// The whole sports example as one object: the hub (`herald serve` with its log in Redis),
// the app server that owns the data and publishes to it, and the built page the app serves.
// `npm run example -- sports` starts it; the browser test starts it and restarts its hub.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { HubProcess } from '../../shared/hub-process.js';
import { closeAppServer, exampleHub, openAppServer, startHub } from '../../shared/app-stack.js';
import { buildPage } from '../../shared/page.js';
import { HttpPublisher } from '../../shared/publisher.js';
import { requireServices } from '../../shared/services.js';
import { handleRequest, type PageConfig } from './api.js';
import { EventService } from './event-service.js';
import { seedEvent } from './model.js';

export interface SportsStackOptions {
  /** The app server's port (the page's origin); 0 picks a free one. */
  appPort: number;
  /** The hub's port; 0 picks a free one (kept across hub restarts). */
  hubPort: number;
  redisUrl: string;
  /** Prefix of the hub's Redis keys, so two runs never share a log. */
  redisPrefix: string;
  /** Where the built page goes. */
  pageDir: string;
  /** Where the hub's log lines go. Default: stderr. */
  hubOutput?: NodeJS.WritableStream;
}

export interface SportsStack {
  /** The page, e.g. `http://127.0.0.1:3000/`. */
  url: string;
  hub: HubProcess;
  service: EventService;
  publisher: HttpPublisher;
  close(): Promise<void>;
}

const WEB_ROOT = fileURLToPath(new URL('../web/', import.meta.url));

export async function startSportsStack(options: SportsStackOptions): Promise<SportsStack> {
  await requireServices('sports', [
    {
      name: 'Redis',
      url: options.redisUrl,
      hint: 'the hub keeps its event log there, so a page resumes across a hub restart. Start it (`redis-server`, or `docker run -p 6379:6379 redis`) or set REDIS_URL',
    },
  ]);
  await buildPage(WEB_ROOT, options.pageDir);

  const appServer = await openAppServer(options.appPort, options.hubPort);
  const { server, origin: appOrigin } = appServer;
  // A fresh key each run: only this app server may publish. Without a JWT key every topic may be read, as the team's public event pages could.
  const publishKey = randomBytes(24).toString('hex');
  const hub = exampleHub(
    appServer,
    ['--redis', options.redisUrl, '--redis-prefix', options.redisPrefix, '--publish-key', publishKey, '--heartbeat', '10s'],
    options.hubOutput,
  );
  await startHub(appServer, hub);

  const publisher = new HttpPublisher({ hubUrl: hub.url, publishKey, idPrefix: `sports-${Date.now().toString(36)}` });
  const service = new EventService(seedEvent(), publisher);
  const config: PageConfig = { hubUrl: hub.url, eventId: service.event.id, topics: service.topics };
  server.on('request', (req, res) => void handleRequest(service, config, options.pageDir, req, res));

  return {
    url: `${appOrigin}/`,
    hub,
    service,
    publisher,
    async close() {
      publisher.close();
      await closeAppServer(appServer);
      await hub.stop();
    },
  };
}
