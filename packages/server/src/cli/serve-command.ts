import { Command, Option } from 'commander';
import { pino, type Logger } from 'pino';
import { collectDefaultMetrics } from 'prom-client';
import { RedisBroker } from '../broker/redis.js';
import { createHub, type Hub } from '../hub.js';
import { PgListenBridge } from '../sources/pg-listen.js';
import { OutboxRelay } from '../sources/pg-relay.js';
import { RedisBridge } from '../sources/redis-bridge.js';
import { authenticationOf } from '../auth/access.js';
import { ConfigError } from './config-error.js';
import type { Conversion } from './convert.js';
import { hubOptionsOf, loadServeConfig, serveOptionsOf } from './load-config.js';
import { collect } from './repeatable.js';
import { serveOptionsProblems } from './serve-options.js';
import { defaultText, SETTINGS, type ServeConfig } from './settings.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
// Settings whose flag may be given several times (and whose environment value is comma-separated).
const REPEATABLE: ReadonlySet<Conversion> = new Set(['list', 'bridges']);

/** Adds `herald serve`, with a flag for every row of the settings table. */
export function registerServeCommand(program: Command): void {
  const serveCommand = program
    .command('serve')
    .description('run the hub (in-memory log; no external service needed)')
    .option('--config <file>', 'JSON file of settings (keys as in the README table); env HERALD_CONFIG');
  for (const setting of SETTINGS) {
    const fallback = defaultText(setting);
    const help = `${setting.help}; env ${setting.env}${fallback === '(none)' ? '' : ` (default ${fallback})`}`;
    if (setting.convert === 'boolean') {
      serveCommand.addOption(new Option(`--${setting.flag}`, help));
      serveCommand.addOption(new Option(`--no-${setting.flag}`, `turn off --${setting.flag}`));
    } else if (REPEATABLE.has(setting.convert)) {
      serveCommand.addOption(new Option(`--${setting.flag} <value>`, help).argParser(collect));
    } else {
      serveCommand.addOption(new Option(`--${setting.flag} <value>`, help));
    }
  }
  serveCommand.action(async (flags: Record<string, unknown>) => {
    await serve(flags);
  });
}

/** Runs `herald serve` until SIGTERM or SIGINT, then shuts down gracefully. */
export async function serve(flags: Record<string, unknown>): Promise<void> {
  const configPath = (flags['config'] as string | undefined) ?? process.env['HERALD_CONFIG'];
  const config = loadServeConfig(flags, process.env, configPath);
  const problems = serveOptionsProblems(serveOptionsOf(config));
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  const log = pino({ name: 'herald', level: config.logLevel });
  const broker =
    config.redis === ''
      ? undefined
      : new RedisBroker({ url: config.redis, prefix: config.redisPrefix, maxEvents: config.historySize, maxAgeMs: config.historyMaxAge, logger: log });
  const hub = createHub({ ...hubOptionsOf(config), logger: log, ...(broker === undefined ? {} : { broker }) });
  try {
    await hub.ready();
  } catch (error) {
    log.fatal({ err: error }, 'the event log could not start');
    process.exit(1);
  }
  await startSources(hub, config, log);
  collectDefaultMetrics({ register: hub.metrics.registry });
  const auth = authenticationOf(hub.options);
  const authenticated = auth.subscribe || auth.publish;
  const host = config.host !== '' ? config.host : authenticated ? '0.0.0.0' : '127.0.0.1';
  const server = await hub.listen(config.port, host);
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  log.info({ url: `http://${shown}:${port}${config.basePath}/`, broker: hub.broker.name }, 'herald is listening');
  if (authenticated) {
    log.info({ subscribe: auth.subscribe ? 'token' : 'open', publish: auth.publish ? 'key or token' : 'open' }, 'authentication is on');
  } else if (LOOPBACK.has(host)) {
    log.info('no authentication is configured, so the hub listens on loopback only; pass --host to listen elsewhere');
  } else {
    log.warn({ host }, 'no authentication is configured: anyone who can reach this address can subscribe and publish');
  }
  stopOnSignals(hub, config, log);
}

/** Starts the sources the config names; the hub owns each, so closing it stops them. */
async function startSources(hub: Hub, config: ServeConfig, log: Logger): Promise<void> {
  if (config.postgres !== '') {
    const relay = new OutboxRelay(hub, { url: config.postgres, pollIntervalMs: config.pgPollInterval, retentionMs: config.pgRetention, logger: log });
    hub.own(relay);
    await relay.start();
  }
  // serve() has already refused pgListen without postgres and redisBridge without redis.
  if (config.pgListen.length > 0) {
    const listen = new PgListenBridge(hub, { url: config.postgres, mappings: config.pgListen, logger: log });
    hub.own(listen);
    await listen.start();
  }
  if (config.redisBridge.length > 0) {
    const bridge = new RedisBridge(hub, { url: config.redis, mappings: config.redisBridge, logger: log });
    hub.own(bridge);
    await bridge.start();
  }
}

function stopOnSignals(hub: Hub, config: ServeConfig, log: Logger): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    // The hub's own deadline bounds the wait; this one guards against anything that hangs past it.
    setTimeout(() => process.exit(1), config.shutdownTimeout + 5000).unref();
    hub.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
