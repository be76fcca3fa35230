import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { pino } from 'pino';
import { collectDefaultMetrics } from 'prom-client';
import { ConfigError, hubOptionsOf, loadServeConfig, REPEATABLE_KINDS, SERVE_DEFAULTS, SETTINGS } from './config.js';
import { authenticationOf } from './auth/access.js';
import { RedisBroker } from './broker/redis.js';
import { createHub } from './hub.js';
import { mintToken, type TokenFlags } from './token-command.js';
import { RedisBridge } from './sources/redis-bridge.js';
import { registerPgCommands } from './pg/command.js';
import { PgListenBridge } from './sources/pg-listen.js';
import { OutboxRelay } from './sources/pg-relay.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Runs `herald serve` until SIGTERM or SIGINT, then shuts down gracefully. */
export async function serve(flags: Record<string, unknown>): Promise<void> {
  const configPath = (flags['config'] as string | undefined) ?? process.env['HERALD_CONFIG'];
  const config = loadServeConfig(flags, process.env, configPath);
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
  if (config.postgres !== '') {
    const relay = new OutboxRelay(hub, { url: config.postgres, pollIntervalMs: config.pgPollInterval, retentionMs: config.pgRetention, logger: log });
    hub.own(relay);
    await relay.start();
  }
  if (config.pgListen.length > 0) {
    if (config.postgres === '') throw new ConfigError('--pg-listen needs --postgres (or DATABASE_URL)');
    const listen = new PgListenBridge(hub, { url: config.postgres, mappings: config.pgListen, logger: log });
    hub.own(listen);
    await listen.start();
  }
  if (config.redisBridge.length > 0) {
    if (config.redis === '') throw new ConfigError('--redis-bridge needs --redis (or REDIS_URL): the bridge reads from that Redis');
    const bridge = new RedisBridge(hub, { url: config.redis, mappings: config.redisBridge, logger: log });
    hub.own(bridge);
    await bridge.start();
  }
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

/** Builds the `herald` command line. */
export function buildProgram(): Command {
  const program = new Command('herald').description('Herald real-time hub').version(version());
  const serveCommand = program
    .command('serve')
    .description('run the hub (in-memory log; no external service needed)')
    .option('--config <file>', 'JSON file of settings (keys as in the README table); env HERALD_CONFIG');
  for (const setting of SETTINGS) {
    const fallback = SERVE_DEFAULTS[setting.key];
    const shown = fallback === undefined || fallback === '' || (Array.isArray(fallback) && fallback.length === 0) ? '' : ` (default ${JSON.stringify(fallback)})`;
    const help = `${setting.help}; env ${setting.env}${shown}`;
    if (setting.kind === 'boolean') {
      serveCommand.addOption(new Option(`--${setting.flag}`, help));
      serveCommand.addOption(new Option(`--no-${setting.flag}`, `turn off --${setting.flag}`));
    } else if (REPEATABLE_KINDS.has(setting.kind)) {
      const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
      serveCommand.addOption(new Option(`--${setting.flag} <value>`, help).argParser(collect));
    } else {
      serveCommand.addOption(new Option(`--${setting.flag} <value>`, help));
    }
  }
  serveCommand.action(async (flags: Record<string, unknown>) => {
    await serve(flags);
  });
  const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
  registerPgCommands(program, collect);
  program
    .command('token')
    .description('print a signed HS256 development token for a hub started with --jwt-secret')
    .option('--sub <subject>', 'the sub claim')
    .option('--subscribe <pattern>', 'topic pattern the token may subscribe to ({sub} and other claims expand); repeatable', collect)
    .option('--publish <pattern>', 'topic pattern the token may publish to; repeatable', collect)
    .option('--claim <name=value>', 'an extra claim, such as role=admin; repeatable', collect)
    .option('--ttl <duration>', 'lifetime, such as 15m or 1h (default 15m)')
    .option('--secret <secret>', 'the hub secret; env HERALD_JWT_SECRET')
    .option('--audience <aud>', 'the aud claim')
    .option('--issuer <iss>', 'the iss claim')
    .action(async (flags: TokenFlags) => {
      process.stdout.write(`${await mintToken(flags, process.env)}\n`);
    });
  return program;
}

/** Entry point of the `herald` binary. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof TypeError) {
      process.stderr.write(`herald: ${error.message.replace(/^herald: /, '')}\n`);
      process.exit(2);
    }
    throw error;
  }
}
