// The parts every example's stack starts the same way: the app server listening on
// loopback, and a `herald serve` for it with the flags every example shares (loopback,
// quiet, the app's origin allowed, quick restarts). Each example adds its own flags.
import { createServer, type Server } from 'node:http';
import { HubProcess } from './hub-process.js';
import { freePort, listen } from './net.js';

/** The app server, listening, with its origin and the port its hub is to use. */
export interface AppServer {
  server: Server;
  /** e.g. `http://127.0.0.1:3000`. */
  origin: string;
  hubPort: number;
}

/** Opens the app server on `appPort` and picks the hub's port (0: a free one, kept across hub restarts). */
export async function openAppServer(appPort: number, hubPort: number): Promise<AppServer> {
  const server = createServer();
  const origin = `http://127.0.0.1:${await listen(server, appPort)}`;
  return { server, origin, hubPort: hubPort === 0 ? await freePort() : hubPort };
}

/** The example's hub: the shared flags, then `args`. */
export function exampleHub(app: AppServer, args: readonly string[], output?: NodeJS.WritableStream): HubProcess {
  return new HubProcess({
    port: app.hubPort,
    ...(output === undefined ? {} : { output }),
    args: [
      '--host',
      '127.0.0.1',
      '--no-demo',
      '--log-level',
      'warn',
      '--allowed-origins',
      `${app.origin},${app.origin.replace('127.0.0.1', 'localhost')}`,
      // A restart should be quick, and its reconnects need no spreading for one page.
      '--shutdown-timeout',
      '2s',
      '--shutdown-jitter',
      '200ms',
      ...args,
    ],
  });
}

/** Starts the hub; when it cannot start, the app server is closed before the error goes on. */
export async function startHub(app: AppServer, hub: HubProcess): Promise<void> {
  try {
    await hub.start();
  } catch (error) {
    app.server.close();
    throw error;
  }
}

/** Closes the app server, its open connections first (so keep-alive sockets do not hold it). */
export async function closeAppServer(app: AppServer): Promise<void> {
  app.server.closeAllConnections();
  await new Promise((resolve) => app.server.close(resolve));
}
