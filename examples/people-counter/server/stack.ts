// The whole people counter example: the app's tables in a Postgres schema of its own with
// Herald's change capture on them (`herald pg triggers --key id`), the hub relaying their
// changes (`herald serve --postgres`, history refilled from the outbox on restart), the
// app server that writes the tables, and the built page.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { HubProcess } from '../../shared/hub-process.js';
import { closeAppServer, exampleHub, openAppServer, startHub } from '../../shared/app-stack.js';
import { buildPage } from '../../shared/page.js';
import { requireServices } from '../../shared/services.js';
import { handleRequest, type AppContext } from './api.js';
import { PeopleCounter } from './counter.js';
import { installSchema, withSchema } from './schema.js';
import { Simulator } from './simulator.js';

/** The session the page shows (the team's dashboard showed one at a time). */
const SESSION_ID = 'lobby';

/** The Postgres URL the example uses: DATABASE_URL, or the local default. */
export const databaseUrl = (): string => process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface PeopleCounterStackOptions {
  appPort: number;
  hubPort: number;
  /** Default: {@link databaseUrl}. */
  databaseUrl?: string;
  /** The schema holding the tables and the outbox. Default `people_counter`; tests use one per run. */
  schema?: string;
  pageDir: string;
  hubOutput?: NodeJS.WritableStream;
  /** Moves people every so many ms, like a door sensor. Default: never (tests move them). */
  simulateEveryMs?: number;
}

export interface PeopleCounterStack {
  url: string;
  hub: HubProcess;
  counter: PeopleCounter;
  sessionId: string;
  close(): Promise<void>;
}

const WEB_ROOT = fileURLToPath(new URL('../web/', import.meta.url));

export async function startPeopleCounterStack(options: PeopleCounterStackOptions): Promise<PeopleCounterStack> {
  const database = options.databaseUrl ?? databaseUrl();
  await requireServices('people-counter', [
    {
      name: 'Postgres',
      url: database,
      hint: 'the app keeps its tables there and the hub relays their changes. Start it (`docker run -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres`) or set DATABASE_URL',
    },
  ]);
  const schema = options.schema ?? 'people_counter';
  await installSchema(database, schema);
  const url = withSchema(database, schema);
  const counter = new PeopleCounter(url);
  await counter.ensureSession(SESSION_ID, 'Main lobby', 12);
  await counter.ensureSession('cafeteria', 'Cafeteria', 40);
  await buildPage(WEB_ROOT, options.pageDir);

  const appServer = await openAppServer(options.appPort, options.hubPort);
  const { server, origin: appOrigin } = appServer;
  const hub = exampleHub(
    appServer,
    [
      '--postgres',
      url,
      // Events come only from the tables; a key nobody is given closes HTTP publishing.
      '--publish-key',
      randomBytes(24).toString('hex'),
      // The relay also wakes on NOTIFY; polling this often only bounds a missed wake-up.
      '--pg-poll-interval',
      '250ms',
    ],
    options.hubOutput,
  );
  await startHub(appServer, hub).catch(async (error: unknown) => {
    await counter.close();
    throw error;
  });

  const simulator = new Simulator(counter, SESSION_ID);
  if (options.simulateEveryMs !== undefined) simulator.start(options.simulateEveryMs);
  const app: AppContext = { counter, simulator, config: { hubUrl: hub.url, sessionId: SESSION_ID }, pageDir: options.pageDir };
  server.on('request', (req, res) => void handleRequest(app, req, res));

  return {
    url: `${appOrigin}/`,
    hub,
    counter,
    sessionId: SESSION_ID,
    async close() {
      simulator.stop();
      await closeAppServer(appServer);
      await hub.stop();
      await counter.close();
    },
  };
}
