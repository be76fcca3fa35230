import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { convertValue, formatValue } from '../src/cli/convert.js';
import { hubOptionsOf, loadServeConfig, serveOptionsOf } from '../src/cli/load-config.js';
import { serveOptionsProblems } from '../src/cli/serve-options.js';
import { defaultText, SERVE_DEFAULTS, SETTINGS } from '../src/cli/settings.js';

describe('cli settings table', () => {
  it('writes every default so that typing it back gives the default', () => {
    for (const setting of SETTINGS) {
      const value = SERVE_DEFAULTS[setting.key];
      if (setting.defaultText !== undefined || value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) continue;
      if (setting.convert === 'bridges' || setting.convert === 'pem-file') continue;
      assert.deepEqual(convertValue(setting.convert, defaultText(setting)), value, setting.key);
    }
  });

  it('formats durations and sizes in the largest exact unit', () => {
    assert.equal(formatValue('duration', 3_600_000), '1h');
    assert.equal(formatValue('duration', 1500), '1500ms');
    assert.equal(formatValue('duration', 7 * 86_400_000), '7d');
    assert.equal(formatValue('size', 65_536), '64KiB');
    assert.equal(formatValue('size', 1000), '1000');
    assert.equal(formatValue('boolean', false), 'off');
    assert.equal(formatValue('list', []), '(none)');
  });

  it('splits a config into hub options and serve options, together the whole', () => {
    const config = loadServeConfig({ port: '9000', heartbeat: '5s' }, {});
    const hub = hubOptionsOf(config);
    const serve = serveOptionsOf(config);
    assert.equal(serve.port, 9000);
    assert.equal(hub.heartbeatInterval, 5000);
    assert.deepEqual(Object.keys({ ...hub, ...serve }).sort(), Object.keys(config).sort());
    assert.equal(
      Object.keys(hub).some((key) => key in serve),
      false,
    );
  });

  it('refuses a source without its connection before the serve command starts anything', () => {
    assert.deepEqual(serveOptionsProblems(serveOptionsOf(loadServeConfig({}, {}))), []);
    const [listen] = serveOptionsProblems(serveOptionsOf(loadServeConfig({ pgListen: ['ch=t'] }, {})));
    assert.match(listen ?? '', /--pg-listen needs --postgres/);
    const [bridge] = serveOptionsProblems(serveOptionsOf(loadServeConfig({}, { HERALD_REDIS_BRIDGE: 'ch=t' })));
    assert.match(bridge ?? '', /--redis-bridge needs --redis/);
    assert.deepEqual(serveOptionsProblems(serveOptionsOf(loadServeConfig({ pgListen: ['ch=t'], postgres: 'postgres://h/db' }, {}))), []);
  });

  it('reports every bad setting at once, one line each', () => {
    assert.throws(
      () => loadServeConfig({ port: 'http', heartbeat: '50ms' }, { HERALD_HISTORY_SIZE: '0' }),
      (error: unknown) => {
        const lines = (error as Error).message.split('\n');
        assert.equal(lines.length, 3);
        for (const flag of ['--port', '--heartbeat', 'HERALD_HISTORY_SIZE'])
          assert.ok(
            lines.some((line) => line.startsWith(`invalid ${flag}:`)),
            flag,
          );
        return true;
      },
    );
  });
});
