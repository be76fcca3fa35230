import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../src/cli/config-error.js';
import { hubOptionsOf, loadServeConfig } from '../src/cli/load-config.js';
import { SERVE_DEFAULTS, SETTINGS, type ServeConfig } from '../src/cli/settings.js';
import { createHub } from '../src/hub.js';
import { HUB_DEFAULTS, resolveHubOptions, type HubOptions } from '../src/options.js';

const dir = mkdtempSync(join(tmpdir(), 'herald-config-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
/** Writes a config file (JSON of `content`, or raw text) into the temp dir and returns its path. */
function configFile(content: unknown): string {
  const path = join(dir, `config-${++fileCount}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** Three Ed25519 public keys as PEM files, for the pem-file setting. */
const PEM_FILES = [1, 2, 3].map((n) => {
  const pem = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const path = join(dir, `key-${n}.pem`);
  writeFileSync(path, pem);
  return { path, pem };
});

/**
 * Every ServeConfig field, spelled out so that the compiler reports a field added
 * to ServeConfig without a row here (and a row for a field that does not exist).
 * `true` marks settings with a default; `false` optional ones, absent by default.
 */
const SERVE_FIELDS: Record<keyof ServeConfig, boolean> = {
  port: true,
  host: true,
  logLevel: true,
  demo: true,
  basePath: true,
  historySize: true,
  historyMaxAge: true,
  heartbeatInterval: true,
  sseRetry: true,
  maxEventBytes: true,
  maxBodyBytes: true,
  maxQueueBytes: true,
  maxTopicsPerConnection: true,
  maxConnections: true,
  shutdownTimeout: true,
  shutdownJitter: true,
  redis: true,
  redisPrefix: true,
  redisBridge: true,
  postgres: true,
  pgListen: true,
  pgPollInterval: true,
  pgRetention: true,
  jwtSecret: false,
  jwtPublicKey: false,
  jwksUrl: false,
  jwtAlgorithms: false,
  jwtAudience: false,
  jwtIssuer: false,
  jwtClockSkew: true,
  tokenCookie: true,
  publicTopics: true,
  publishKeys: true,
  authorizeUrl: false,
  authorizeTimeout: true,
  authorizeCacheTtl: true,
  exposeClaims: true,
  reauthorizeInterval: true,
  allowedOrigins: true,
  maxConnectionsPerIp: true,
  publishRate: true,
  publishBurst: true,
  wsMessageRate: true,
  trustProxy: true,
  headersTimeout: true,
  requestTimeout: true,
};

/** Runs `fn`, asserts it throws a ConfigError, and returns its message. */
function configErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'ConfigError');
    return error.message;
  }
  assert.fail('expected a ConfigError');
}

/** Asserts that `message` contains each of `parts` literally. */
function includesAll(message: string, parts: readonly string[]): void {
  for (const part of parts) assert.ok(message.includes(part), `expected ${JSON.stringify(part)} in: ${message}`);
}

describe('loadServeConfig: defaults and precedence', () => {
  it('returns the serve defaults when nothing is set', () => {
    assert.deepEqual(loadServeConfig({}, {}), SERVE_DEFAULTS);
    assert.equal(SERVE_DEFAULTS.port, 8080);
    // Empty: `herald serve` picks loopback without authentication and every interface with it.
    assert.equal(SERVE_DEFAULTS.host, '');
    assert.equal(SERVE_DEFAULTS.logLevel, 'info');
    assert.equal(SERVE_DEFAULTS.demo, true);
    assert.equal(SERVE_DEFAULTS.heartbeatInterval, HUB_DEFAULTS.heartbeatInterval);
    // Every hub default is a serve default, the auth ones included.
    for (const [key, value] of Object.entries(HUB_DEFAULTS)) {
      assert.deepEqual(SERVE_DEFAULTS[key as keyof ServeConfig], key === 'demo' ? true : value, key);
    }
    assert.equal(SERVE_DEFAULTS.jwtClockSkew, 5000);
    assert.equal(SERVE_DEFAULTS.tokenCookie, 'herald_token');
    assert.deepEqual(SERVE_DEFAULTS.publicTopics, []);
    assert.deepEqual(SERVE_DEFAULTS.publishKeys, []);
    assert.deepEqual(SERVE_DEFAULTS.allowedOrigins, []);
    assert.equal(SERVE_DEFAULTS.authorizeTimeout, 2000);
    assert.equal(SERVE_DEFAULTS.authorizeCacheTtl, 5000);
    assert.equal(SERVE_DEFAULTS.maxConnectionsPerIp, 0);
    assert.equal(SERVE_DEFAULTS.publishRate, 0);
    assert.equal(SERVE_DEFAULTS.publishBurst, 0);
    assert.equal(SERVE_DEFAULTS.wsMessageRate, 100);
    assert.equal(SERVE_DEFAULTS.trustProxy, false);
    assert.equal(SERVE_DEFAULTS.headersTimeout, 10_000);
    assert.equal(SERVE_DEFAULTS.requestTimeout, 30_000);
    // Optional settings have no default: authentication stays off unless a key source is given.
    const loaded = loadServeConfig({}, {});
    for (const [key, defaulted] of Object.entries(SERVE_FIELDS)) {
      if (defaulted) continue;
      assert.equal(key in SERVE_DEFAULTS, false, `${key} has no default`);
      assert.equal(loaded[key as keyof ServeConfig], undefined, key);
    }
  });

  it('does not modify SERVE_DEFAULTS', () => {
    const before = { ...SERVE_DEFAULTS };
    loadServeConfig({ port: '9000', heartbeat: '1s' }, {});
    assert.deepEqual(SERVE_DEFAULTS, before);
  });

  it('takes flags over env over config file over defaults', () => {
    const file = configFile({ heartbeatInterval: '10s', port: 1111, host: 'file.example' });
    const env = { HERALD_HEARTBEAT: '20s', HERALD_PORT: '2222' };
    const flags = { heartbeat: '30s' };

    const all = loadServeConfig(flags, env, file);
    assert.equal(all.heartbeatInterval, 30_000, 'flag wins');
    assert.equal(all.port, 2222, 'env wins over file');
    assert.equal(all.host, 'file.example', 'file wins over default');
    assert.equal(all.sseRetry, SERVE_DEFAULTS.sseRetry, 'default when unset');

    assert.equal(loadServeConfig({}, env, file).heartbeatInterval, 20_000, 'env without flag');
    assert.equal(loadServeConfig({}, {}, file).heartbeatInterval, 10_000, 'file without env or flag');
    assert.equal(loadServeConfig({}, {}).heartbeatInterval, 25_000, 'default');
    assert.equal(loadServeConfig(flags, {}, file).heartbeatInterval, 30_000, 'flag over file');
    assert.equal(loadServeConfig(flags, env).heartbeatInterval, 30_000, 'flag over env without file');
  });

  it('ignores an empty environment variable', () => {
    const file = configFile({ historySize: 50 });
    assert.equal(loadServeConfig({}, { HERALD_HISTORY_SIZE: '' }, file).historySize, 50);
    assert.equal(loadServeConfig({}, { HERALD_HISTORY_SIZE: '' }).historySize, SERVE_DEFAULTS.historySize);
  });

  it('reads flags by the camel-cased flag name, env by HERALD_*, and the file by the setting key', () => {
    for (const setting of SETTINGS) {
      const [flagValue, envValue, fileValue, expected] = sample(setting.key);
      const flagName = setting.flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      assert.deepEqual(loadServeConfig({ [flagName]: flagValue }, {})[setting.key], expected[0], `flag ${setting.flag}`);
      assert.deepEqual(loadServeConfig({}, { [setting.env]: envValue })[setting.key], expected[1], `env ${setting.env}`);
      assert.deepEqual(loadServeConfig({}, {}, configFile({ [setting.key]: fileValue }))[setting.key], expected[2], `file ${setting.key}`);
    }
  });

  it('has a distinct flag, env var and key per setting, covering every ServeConfig field', () => {
    assert.deepEqual(SETTINGS.map((s) => s.key).sort(), Object.keys(SERVE_FIELDS).sort());
    const defaulted = Object.entries(SERVE_FIELDS)
      .filter(([, d]) => d)
      .map(([key]) => key);
    assert.deepEqual(Object.keys(SERVE_DEFAULTS).sort(), defaulted.sort());
    for (const field of ['flag', 'env', 'key'] as const) {
      assert.equal(new Set(SETTINGS.map((s) => s[field])).size, SETTINGS.length, field);
    }
    // REDIS_URL and DATABASE_URL are the names their ecosystems already use; every other variable is HERALD_*.
    const ecosystem: Partial<Record<keyof ServeConfig, string>> = { redis: 'REDIS_URL', postgres: 'DATABASE_URL' };
    for (const setting of SETTINGS) {
      const expected = ecosystem[setting.key];
      if (expected !== undefined) assert.equal(setting.env, expected);
      else assert.match(setting.env, /^HERALD_[A-Z_]+$/);
    }
  });
});

/** A flag, env and file value for each setting, and the parsed value expected for each. */
function sample(key: keyof ServeConfig): [unknown, string, unknown, [unknown, unknown, unknown]] {
  switch (key) {
    case 'port':
      return ['9001', '9002', 9003, [9001, 9002, 9003]];
    case 'host':
      return ['0.0.0.0', '::1', 'example.org', ['0.0.0.0', '::1', 'example.org']];
    case 'logLevel':
      return ['debug', 'warn', 'silent', ['debug', 'warn', 'silent']];
    case 'demo':
      return [false, 'false', false, [false, false, false]];
    case 'basePath':
      return ['/a', '/b/c', '/d', ['/a', '/b/c', '/d']];
    case 'historySize':
    case 'maxTopicsPerConnection':
    case 'maxConnections':
      return ['7', '8', 9, [7, 8, 9]];
    case 'historyMaxAge':
    case 'heartbeatInterval':
    case 'sseRetry':
    case 'shutdownTimeout':
    case 'shutdownJitter':
      return ['2s', '3m', '4h', [2000, 180_000, 14_400_000]];
    case 'maxEventBytes':
    case 'maxBodyBytes':
    case 'maxQueueBytes':
      return ['2KiB', '3MiB', 4096, [2048, 3 * 1024 * 1024, 4096]];
    case 'redis':
      return ['redis://a:1', 'redis://b:2/3', 'rediss://c:4', ['redis://a:1', 'redis://b:2/3', 'rediss://c:4']];
    case 'redisPrefix':
      return ['a:', 'b-', 'c{1}:', ['a:', 'b-', 'c{1}:']];
    case 'redisBridge':
      return [
        ['ch=t'],
        'x=y,p*=q',
        ['f=g'],
        [
          [{ channel: 'ch', topic: 't' }],
          [
            { channel: 'x', topic: 'y' },
            { channel: 'p*', topic: 'q' },
          ],
          [{ channel: 'f', topic: 'g' }],
        ],
      ];
    case 'postgres':
      return ['postgres://a@h:1/db', 'postgresql://b@h/db', 'postgres://c/d', ['postgres://a@h:1/db', 'postgresql://b@h/db', 'postgres://c/d']];
    case 'pgListen':
      return [
        ['ch=t'],
        'x=y,z=w',
        ['f=g'],
        [
          [{ channel: 'ch', topic: 't' }],
          [
            { channel: 'x', topic: 'y' },
            { channel: 'z', topic: 'w' },
          ],
          [{ channel: 'f', topic: 'g' }],
        ],
      ];
    case 'pgPollInterval':
    case 'pgRetention':
      return ['2s', '3m', '4h', [2000, 180_000, 14_400_000]];
    case 'jwtSecret': {
      const [a, b, c] = ['a', 'b', 'c'].map((ch) => ch.repeat(32)) as [string, string, string];
      return [a, b, c, [a, b, c]];
    }
    case 'jwtPublicKey': {
      const [a, b, c] = PEM_FILES as [(typeof PEM_FILES)[0], (typeof PEM_FILES)[0], (typeof PEM_FILES)[0]];
      return [a.path, b.path, c.path, [a.pem, b.pem, c.pem]];
    }
    case 'jwksUrl':
    case 'authorizeUrl':
      return [
        'http://a.example/x',
        'https://b.example:8443/y',
        'http://127.0.0.1:9/z',
        ['http://a.example/x', 'https://b.example:8443/y', 'http://127.0.0.1:9/z'],
      ];
    case 'jwtAlgorithms':
      return [['RS256'], 'ES256,EdDSA', ['HS512'], [['RS256'], ['ES256', 'EdDSA'], ['HS512']]];
    case 'jwtAudience':
    case 'jwtIssuer':
      return ['aud-a', 'https://b.example', 'c', ['aud-a', 'https://b.example', 'c']];
    case 'jwtClockSkew':
    case 'authorizeTimeout':
    case 'authorizeCacheTtl':
    case 'reauthorizeInterval':
    case 'headersTimeout':
    case 'requestTimeout':
      return ['2s', '3m', '4h', [2000, 180_000, 14_400_000]];
    case 'tokenCookie':
      return ['sid', 'my_token', 'c.d-e', ['sid', 'my_token', 'c.d-e']];
    case 'publicTopics':
      return [['news/**'], 'a/*,b/**', ['c'], [['news/**'], ['a/*', 'b/**'], ['c']]];
    case 'exposeClaims':
      return [['role'], 'role,cadet_id', ['name'], [['role'], ['role', 'cadet_id'], ['name']]];
    case 'publishKeys': {
      const [a, b, c] = ['k', 'l', 'm'].map((ch) => ch.repeat(16)) as [string, string, string];
      return [[a], `${a},${b}`, [c], [[a], [a, b], [c]]];
    }
    case 'allowedOrigins':
      return [
        ['https://app.example'],
        'https://a.example,http://localhost:3000',
        ['*'],
        [['https://app.example'], ['https://a.example', 'http://localhost:3000'], ['*']],
      ];
    case 'maxConnectionsPerIp':
    case 'publishRate':
    case 'publishBurst':
      return ['0', '8', 9, [0, 8, 9]];
    case 'wsMessageRate':
      return ['7', '8', 9, [7, 8, 9]];
    case 'trustProxy':
      return [true, 'yes', true, [true, true, true]];
  }
}

describe('loadServeConfig: units and kinds', () => {
  const DURATIONS: ReadonlyArray<[string | number, number]> = [
    ['25s', 25_000],
    ['500ms', 500],
    ['1h', 3_600_000],
    ['2m', 120_000],
    ['1d', 86_400_000],
    ['1.5s', 1500],
    ['25000', 25_000],
    ['25000ms', 25_000],
    ['0', 0],
    [' 10s ', 10_000],
    ['10 s', 10_000],
    ['10S', 10_000],
    ['1H', 3_600_000],
    [30_000, 30_000],
    [0, 0],
  ];
  it("applies the hub's own rules and names the flag: a heartbeat under 100 ms is refused", () => {
    assert.throws(
      () => loadServeConfig({ heartbeat: '50ms' }, {}),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message.includes('--heartbeat') &&
        error.message.includes('HERALD_HEARTBEAT') &&
        error.message.includes('100 milliseconds'),
    );
  });

  for (const [raw, expected] of DURATIONS) {
    it(`duration ${JSON.stringify(raw)} → ${expected} ms`, () => {
      const viaFlag = loadServeConfig({ shutdownJitter: raw }, {});
      assert.equal(viaFlag.shutdownJitter, expected);
      if (typeof raw === 'string') {
        assert.equal(loadServeConfig({}, { HERALD_SHUTDOWN_TIMEOUT: raw }).shutdownTimeout, expected);
      }
      assert.equal(loadServeConfig({}, {}, configFile({ sseRetry: raw })).sseRetry, expected);
    });
  }

  const SIZES: ReadonlyArray<[string | number, number]> = [
    ['64KiB', 65_536],
    ['1MiB', 1_048_576],
    ['64kib', 65_536],
    ['1mib', 1_048_576],
    ['64KB', 64_000],
    ['1MB', 1_000_000],
    ['1GiB', 1024 ** 3],
    ['1GB', 1e9],
    ['65536', 65_536],
    ['65536b', 65_536],
    ['2 MiB', 2 * 1024 * 1024],
    ['0.5KiB', 512],
    [4096, 4096],
  ];
  for (const [raw, expected] of SIZES) {
    it(`size ${JSON.stringify(raw)} → ${expected} bytes`, () => {
      assert.equal(loadServeConfig({ maxEventSize: raw }, {}).maxEventBytes, expected);
      if (typeof raw === 'string') {
        assert.equal(loadServeConfig({}, { HERALD_MAX_BODY_SIZE: raw }).maxBodyBytes, expected);
      }
      assert.equal(loadServeConfig({}, {}, configFile({ maxBodyBytes: raw })).maxBodyBytes, expected);
    });
  }

  const BOOLEANS: ReadonlyArray<[string, boolean]> = [
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['on', true],
    ['On', true],
    ['false', false],
    ['False', false],
    ['0', false],
    ['no', false],
    ['off', false],
    ['OFF', false],
  ];
  for (const [raw, expected] of BOOLEANS) {
    it(`HERALD_DEMO=${raw} → ${expected}`, () => {
      assert.equal(loadServeConfig({}, { HERALD_DEMO: raw }).demo, expected);
    });
  }

  it('takes booleans as booleans from flags and the config file', () => {
    assert.equal(loadServeConfig({ demo: false }, { HERALD_DEMO: 'true' }).demo, false);
    assert.equal(loadServeConfig({ demo: true }, { HERALD_DEMO: 'false' }).demo, true);
    assert.equal(loadServeConfig({}, {}, configFile({ demo: false })).demo, false);
  });

  it('parses ports and counts', () => {
    assert.equal(loadServeConfig({ port: '0' }, {}).port, 0);
    assert.equal(loadServeConfig({ port: '65535' }, {}).port, 65535);
    assert.equal(loadServeConfig({}, { HERALD_MAX_CONNECTIONS: '1' }).maxConnections, 1);
    assert.equal(loadServeConfig({}, {}, configFile({ maxTopicsPerConnection: 250 })).maxTopicsPerConnection, 250);
  });
});

describe('loadServeConfig: errors', () => {
  it('names the flag, env var, config key and value for a bad flag', () => {
    const message = configErrorOf(() => loadServeConfig({ heartbeat: 'soon' }, {}));
    includesAll(message, ['--heartbeat', 'HERALD_HEARTBEAT', '"heartbeatInterval"', '"soon"', 'duration']);
    assert.match(message, /^invalid --heartbeat:/);
  });

  it('names the env var as the source for a bad environment value', () => {
    const message = configErrorOf(() => loadServeConfig({}, { HERALD_MAX_EVENT_SIZE: '64k' }));
    assert.match(message, /^invalid HERALD_MAX_EVENT_SIZE:/);
    includesAll(message, ['--max-event-size', 'HERALD_MAX_EVENT_SIZE', '"maxEventBytes"', '"64k"']);
  });

  it('names the config key and file as the source for a bad file value', () => {
    const file = configFile({ historySize: -3 });
    const message = configErrorOf(() => loadServeConfig({}, {}, file));
    includesAll(message, [`"historySize" in ${file}`, '--history-size', 'HERALD_HISTORY_SIZE', '-3']);
  });

  const BAD: ReadonlyArray<[label: string, flags: Record<string, unknown>, env: Record<string, string>, parts: string[]]> = [
    ['unknown duration unit', { heartbeat: '25x' }, {}, ['--heartbeat', 'HERALD_HEARTBEAT', '"heartbeatInterval"', '"25x"']],
    ['negative duration', {}, { HERALD_SSE_RETRY: '-5s' }, ['--sse-retry', 'HERALD_SSE_RETRY', '"sseRetry"', '"-5s"']],
    ['exponent duration', { historyAge: '1e3' }, {}, ['--history-age', 'HERALD_HISTORY_AGE', '"historyMaxAge"', '"1e3"']],
    ['empty flag duration', { shutdownTimeout: '' }, {}, ['--shutdown-timeout', 'HERALD_SHUTDOWN_TIMEOUT', '"shutdownTimeout"', '""']],
    ['duration unit only', {}, { HERALD_SHUTDOWN_JITTER: 's' }, ['--shutdown-jitter', 'HERALD_SHUTDOWN_JITTER', '"shutdownJitter"', '"s"']],
    ['size with k', {}, { HERALD_MAX_QUEUE_SIZE: '64k' }, ['--max-queue-size', 'HERALD_MAX_QUEUE_SIZE', '"maxQueueBytes"', '"64k"']],
    ['size with duration unit', { maxBodySize: '10s' }, {}, ['--max-body-size', 'HERALD_MAX_BODY_SIZE', '"maxBodyBytes"', '"10s"']],
    ['boolean maybe', {}, { HERALD_DEMO: 'maybe' }, ['--demo', 'HERALD_DEMO', '"demo"', '"maybe"']],
    ['port too large', { port: '65536' }, {}, ['--port', 'HERALD_PORT', '"port"', '"65536"']],
    ['port not a number', {}, { HERALD_PORT: 'http' }, ['--port', 'HERALD_PORT', '"port"', '"http"']],
    ['port negative', {}, { HERALD_PORT: '-1' }, ['--port', 'HERALD_PORT', '"port"', '"-1"']],
    ['count zero', {}, { HERALD_HISTORY_SIZE: '0' }, ['--history-size', 'HERALD_HISTORY_SIZE', '"historySize"', '"0"']],
    ['count fractional', { maxTopics: '1.5' }, {}, ['--max-topics', 'HERALD_MAX_TOPICS', '"maxTopicsPerConnection"', '"1.5"']],
    ['count with unit', {}, { HERALD_MAX_CONNECTIONS: '10k' }, ['--max-connections', 'HERALD_MAX_CONNECTIONS', '"maxConnections"', '"10k"']],
    ['unknown log level', { logLevel: 'verbose' }, {}, ['--log-level', 'HERALD_LOG_LEVEL', '"logLevel"', '"verbose"']],
    ['host with space', {}, { HERALD_HOST: 'a b' }, ['--host', 'HERALD_HOST', '"host"', '"a b"']],
    ['base path with trailing slash', { basePath: '/rt/' }, {}, ['--base-path', 'HERALD_BASE_PATH', '"basePath"', '"/rt/"']],
    ['base path without leading slash', {}, { HERALD_BASE_PATH: 'rt' }, ['--base-path', 'HERALD_BASE_PATH', '"basePath"', '"rt"']],
    ['JWT secret under 32 characters', {}, { HERALD_JWT_SECRET: 'too-short' }, ['--jwt-secret', 'HERALD_JWT_SECRET', '"jwtSecret"', '32 characters']],
    ['JWKS URL that is not http(s)', { jwksUrl: 'file:///etc/keys.json' }, {}, ['--jwks-url', 'HERALD_JWKS_URL', '"jwksUrl"', '"file:///etc/keys.json"']],
    [
      'public key file that does not exist',
      { jwtPublicKey: '/nonexistent/key.pem' },
      {},
      ['--jwt-public-key', 'HERALD_JWT_PUBLIC_KEY', '"jwtPublicKey"', 'cannot read'],
    ],
    ['public pattern with ** in the middle', {}, { HERALD_PUBLIC: 'news/**/x' }, ['--public', 'HERALD_PUBLIC', '"publicTopics"', '"news/**/x"']],
    ['cookie name with a space', {}, { HERALD_TOKEN_COOKIE: 'a b' }, ['--token-cookie', 'HERALD_TOKEN_COOKIE', '"tokenCookie"']],
    ['audience with a newline', { jwtAudience: 'a\nb' }, {}, ['--jwt-audience', 'HERALD_JWT_AUDIENCE', '"jwtAudience"']],
    ['ws message rate 0', {}, { HERALD_WS_MESSAGE_RATE: '0' }, ['--ws-message-rate', 'HERALD_WS_MESSAGE_RATE', '"wsMessageRate"', '"0"']],
    ['authorize timeout 0', { authorizeTimeout: '0' }, {}, ['--authorize-timeout', 'HERALD_AUTHORIZE_TIMEOUT', '"authorizeTimeout"']],
  ];
  for (const [label, flags, env, parts] of BAD) {
    it(`rejects ${label}`, () => {
      includesAll(
        configErrorOf(() => loadServeConfig(flags, env)),
        parts,
      );
    });
  }

  it('rejects bad values in the config file by kind', () => {
    const cases: ReadonlyArray<[Record<string, unknown>, string]> = [
      [{ heartbeatInterval: -5 }, '-5'],
      [{ heartbeatInterval: 1.5 }, '1.5'],
      [{ maxEventBytes: true }, 'true'],
      [{ port: '80.5' }, '"80.5"'],
      [{ historySize: 2.5 }, '2.5'],
      [{ demo: 'sometimes' }, '"sometimes"'],
      [{ logLevel: null }, 'null'],
    ];
    for (const [content, shown] of cases) {
      const key = Object.keys(content)[0]!;
      const message = configErrorOf(() => loadServeConfig({}, {}, configFile(content)));
      includesAll(message, [`"${key}"`, shown]);
    }
  });

  // List items the hub validates (not the value kind) are refused too. The message
  // names the option as "<key>.<index>"; it should also name the flag and env var
  // like every other setting, but today it does not (and ends "got undefined").
  it('rejects bad list items the hub checks: alg none, a short publish key, an origin with a path', () => {
    const cases: ReadonlyArray<[Record<string, unknown>, Record<string, string>, string, string]> = [
      [{ jwtAlgorithms: ['none'] }, {}, 'jwtAlgorithms', 'HS256'],
      [{}, { HERALD_JWT_ALGORITHMS: 'RS256,none' }, 'jwtAlgorithms', 'HS256'],
      [{}, { HERALD_PUBLISH_KEYS: 'short' }, 'publishKeys', '16 characters'],
      [{ allowedOrigins: ['https://a.example/app'] }, {}, 'allowedOrigins', 'https://app.example.com'],
    ];
    for (const [flags, env, key, problem] of cases) {
      includesAll(
        configErrorOf(() => loadServeConfig(flags, env)),
        [key, problem],
      );
    }
  });

  it('rejects a public key file without a PEM public key', () => {
    const path = configFile('not a key');
    includesAll(
      configErrorOf(() => loadServeConfig({ jwtPublicKey: path }, {})),
      ['--jwt-public-key', 'BEGIN PUBLIC KEY'],
    );
  });

  it('rejects two key sources at once', () => {
    const message = configErrorOf(() => loadServeConfig({ jwtSecret: 's'.repeat(32) }, { HERALD_JWKS_URL: 'https://keys.example/jwks.json' }));
    includesAll(message, ['jwtSecret', 'jwksUrl']);
  });

  it('rejects an unknown config-file key, naming it and the file', () => {
    const file = configFile({ heartbeatInterval: '10s', heartbeat: '10s' });
    const message = configErrorOf(() => loadServeConfig({}, {}, file));
    includesAll(message, ['unknown setting "heartbeat"', file, 'heartbeatInterval']);
  });

  it('rejects an unknown config-file key even when a flag is given', () => {
    const file = configFile({ hostname: 'x' });
    includesAll(
      configErrorOf(() => loadServeConfig({ host: 'y' }, {}, file)),
      ['"hostname"'],
    );
  });

  it('rejects a config file that is not valid JSON', () => {
    const file = configFile('{ "port": 8080, }');
    includesAll(
      configErrorOf(() => loadServeConfig({}, {}, file)),
      [file, 'not valid JSON'],
    );
  });

  it('rejects a config file that is JSON but not an object', () => {
    for (const text of ['[]', '42', 'null', '"port"']) {
      const file = configFile(text);
      includesAll(
        configErrorOf(() => loadServeConfig({}, {}, file)),
        [file, 'JSON object'],
      );
    }
  });

  it('rejects a missing config file', () => {
    const file = join(dir, 'does-not-exist.json');
    includesAll(
      configErrorOf(() => loadServeConfig({}, {}, file)),
      ['cannot read config file', file],
    );
  });

  it('does not fall back to the env or file when a flag is bad', () => {
    const file = configFile({ heartbeatInterval: '10s' });
    configErrorOf(() => loadServeConfig({ heartbeat: 'never' }, { HERALD_HEARTBEAT: '20s' }, file));
  });

  it('does not look at a bad value hidden by a higher-precedence one', () => {
    const file = configFile({ heartbeatInterval: 'bad' });
    assert.equal(loadServeConfig({}, { HERALD_HEARTBEAT: '5s' }, file).heartbeatInterval, 5000);
    assert.equal(loadServeConfig({ heartbeat: '6s' }, { HERALD_HEARTBEAT: 'worse' }).heartbeatInterval, 6000);
  });
});

describe('hubOptionsOf', () => {
  it('drops port, host and logLevel and keeps the hub settings', () => {
    const options = hubOptionsOf(SERVE_DEFAULTS);
    assert.equal('port' in options, false);
    assert.equal('host' in options, false);
    assert.equal('logLevel' in options, false);
    assert.deepEqual(options, { ...HUB_DEFAULTS, demo: true });
  });

  it('gives options that resolveHubOptions accepts', () => {
    const resolved = resolveHubOptions(hubOptionsOf(loadServeConfig({ heartbeat: '5s' }, {})));
    assert.equal(resolved.heartbeatInterval, 5000);
    assert.equal(resolved.demo, true);
  });
});

/** Runs `fn`, asserts it throws a TypeError, and returns its message. */
function typeErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof TypeError, `expected a TypeError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('expected a TypeError');
}

describe('resolveHubOptions and createHub', () => {
  it('has the documented defaults', () => {
    assert.equal(HUB_DEFAULTS.historySize, 10_000);
    assert.equal(HUB_DEFAULTS.historyMaxAge, 3_600_000);
    assert.equal(HUB_DEFAULTS.heartbeatInterval, 25_000);
    assert.equal(HUB_DEFAULTS.maxEventBytes, 65_536);
    assert.equal(HUB_DEFAULTS.maxBodyBytes, 1_048_576);
    assert.equal(HUB_DEFAULTS.maxQueueBytes, 1_048_576);
    assert.equal(HUB_DEFAULTS.sseRetry, 3000);
    assert.equal(HUB_DEFAULTS.maxTopicsPerConnection, 100);
    assert.equal(HUB_DEFAULTS.maxConnections, 100_000);
    assert.equal(HUB_DEFAULTS.shutdownTimeout, 10_000);
    assert.equal(HUB_DEFAULTS.shutdownJitter, 5000);
    assert.equal(HUB_DEFAULTS.basePath, '');
    assert.equal(HUB_DEFAULTS.demo, false);
  });

  it('fills in every default', () => {
    for (const input of [undefined, {}]) {
      const resolved = resolveHubOptions(input);
      assert.deepEqual(resolved, { ...HUB_DEFAULTS });
      // Options without a default are absent, not present as undefined.
      for (const key of ['broker', 'logger', 'jwtSecret', 'jwtPublicKey', 'jwksUrl', 'authorize', 'authorizeUrl']) {
        assert.equal(key in resolved, false, key);
      }
    }
  });

  it('keeps given values and fills in the rest', () => {
    const resolved = resolveHubOptions({ historySize: 5, heartbeatInterval: 100, sseRetry: 0, basePath: '/rt', logger: false });
    assert.deepEqual(resolved, {
      ...HUB_DEFAULTS,
      historySize: 5,
      heartbeatInterval: 100,
      sseRetry: 0,
      basePath: '/rt',
      logger: false,
    });
  });

  it('treats an option given as undefined as absent', () => {
    const resolved = resolveHubOptions({ historySize: undefined, maxQueueBytes: undefined });
    assert.equal(resolved.historySize, 10_000);
    assert.equal(resolved.maxQueueBytes, 1_048_576);
  });

  const BAD: ReadonlyArray<[options: Record<string, unknown>, name: string, shown: string]> = [
    [{ heartbeatInterval: -5 }, 'heartbeatInterval', '-5'],
    [{ heartbeatInterval: 50 }, 'heartbeatInterval', '50'],
    [{ heartbeatInterval: 1.5 }, 'heartbeatInterval', '1.5'],
    [{ historySize: 0 }, 'historySize', '0'],
    [{ historySize: '10' }, 'historySize', '"10"'],
    [{ historyMaxAge: Number.NaN }, 'historyMaxAge', 'NaN'],
    [{ maxEventBytes: Number.POSITIVE_INFINITY }, 'maxEventBytes', 'Infinity'],
    [{ maxBodyBytes: null }, 'maxBodyBytes', 'null'],
    [{ maxQueueBytes: 512 }, 'maxQueueBytes', '512'],
    [{ sseRetry: -1 }, 'sseRetry', '-1'],
    [{ maxTopicsPerConnection: [5] }, 'maxTopicsPerConnection', 'an array'],
    [{ maxConnections: 0 }, 'maxConnections', '0'],
    [{ shutdownTimeout: -1 }, 'shutdownTimeout', '-1'],
    [{ shutdownJitter: 0.5 }, 'shutdownJitter', '0.5'],
    [{ basePath: '/x/' }, 'basePath', '"/x/"'],
    [{ basePath: 'x' }, 'basePath', '"x"'],
    [{ demo: 'yes' }, 'demo', '"yes"'],
    [{ logger: true }, 'logger', 'true'],
    [{ logger: {} }, 'logger', 'an object'],
    [{ broker: {} }, 'broker', 'an object'],
    [{ broker: () => undefined }, 'broker', 'a function'],
  ];
  for (const [options, name, shown] of BAD) {
    it(`rejects ${name}: ${shown} with a TypeError naming both`, () => {
      const message = typeErrorOf(() => resolveHubOptions(options));
      assert.match(message, /^herald: /);
      includesAll(message, [`invalid option ${name}`, `got ${shown}`]);
    });
  }

  it('createHub rejects heartbeatInterval: -5 with the documented message', () => {
    const message = typeErrorOf(() => createHub({ heartbeatInterval: -5, logger: false }));
    includesAll(message, ['herald: invalid option heartbeatInterval: expected a positive integer (milliseconds), got -5']);
  });

  it('rejects unknown options, naming them', () => {
    includesAll(
      typeErrorOf(() => resolveHubOptions({ historysize: 5 })),
      ['unknown option', 'historysize'],
    );
    includesAll(
      typeErrorOf(() => createHub({ logger: false, port: 8080 } as HubOptions)),
      ['unknown option', 'port'],
    );
  });

  it('reports every bad option at once', () => {
    const message = typeErrorOf(() => resolveHubOptions({ historySize: 0, sseRetry: -1, nope: 1 }));
    includesAll(message, ['historySize', 'sseRetry', 'nope']);
  });

  it('rejects options that are not an object', () => {
    for (const [input, shown] of [
      [null, 'null'],
      [5, '5'],
      ['x', '"x"'],
      [[], 'an array'],
    ] as const) {
      includesAll(
        typeErrorOf(() => resolveHubOptions(input)),
        ['options must be an object', shown],
      );
    }
  });

  it('createHub fills in defaults and keeps given options', async () => {
    const hub = createHub({ logger: false, historySize: 7, maxQueueBytes: 2048 });
    try {
      assert.equal(hub.options.historySize, 7);
      assert.equal(hub.options.maxQueueBytes, 2048);
      assert.equal(hub.options.heartbeatInterval, 25_000);
      assert.equal(hub.options.maxEventBytes, 65_536);
      assert.equal(hub.options.maxBodyBytes, 1_048_576);
      assert.equal(hub.options.historyMaxAge, 3_600_000);
      assert.equal(hub.options.logger, false);
      assert.equal(hub.broker.name, 'memory');
      await hub.ready();
    } finally {
      await hub.close();
    }
  });

  it('createHub with no options but logger: false uses every default', async () => {
    const hub = createHub({ logger: false });
    try {
      assert.deepEqual(hub.options, { ...HUB_DEFAULTS, logger: false });
    } finally {
      await hub.close();
    }
  });
});
