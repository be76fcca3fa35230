import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import {
  attempt,
  claimsOf,
  MemoryStream,
  nowSeconds,
  OTHER_SECRET,
  postPublish,
  refusedStatus,
  SECRET,
  sign,
  signWithText,
  topicQuery,
  TRANSPORTS,
} from '../helpers/auth.js';
import { startHub } from '../helpers/hub.js';
import { assertOpened, bearer, KEY_1, openWs } from './fixture.js';

describe('logs and metrics', () => {
  it('never contain a token or a publish key, on accepted, refused and expired paths, at level trace', async () => {
    const stream = new MemoryStream();
    const running = await startHub({
      jwtSecret: SECRET,
      jwtClockSkew: 0,
      publicTopics: ['news/**'],
      publishKeys: [KEY_1],
      logger: pino({ level: 'trace' }, stream),
    });
    const secrets: string[] = [KEY_1];
    const remember = (value: string): string => {
      secrets.push(value, value.split('.')[2] ?? value);
      return value;
    };
    try {
      const good = remember(await sign(claimsOf('logged', { subscribe: ['log/**'], publish: ['log/**'] })));
      const forged = remember(await signWithText(claimsOf('logged', { subscribe: ['log/**'] }), OTHER_SECRET));
      const expired = remember(await sign(claimsOf('logged', { subscribe: ['log/**'] }, { exp: nowSeconds() - 60 })));
      const other = remember(await sign(claimsOf('logged', { subscribe: ['elsewhere/**'] })));
      // Long enough to open on a loaded machine, short enough to expire during the test.
      const shortLived = remember(await sign(claimsOf('logged', { subscribe: ['log/**'] }, { exp: nowSeconds() + 3 })));
      const refreshed = remember(await sign(claimsOf('logged', { subscribe: ['log/**'] })));
      const stranger = remember(await sign(claimsOf('someone-else', { subscribe: ['log/**'] })));

      // Accepted.
      assertOpened(await attempt(running.url, 'sse', topicQuery('log/a'), bearer(good)), 'sse');
      assertOpened(await attempt(running.url, 'sse', `${topicQuery('log/a')}&token=${good}`), 'sse');
      assertOpened(await attempt(running.url, 'ws', topicQuery('log/a'), { cookie: `herald_token=${good}`, origin: running.url }), 'ws');
      // Refused.
      for (const transport of TRANSPORTS) {
        for (const [bad, status] of [
          [forged, 401],
          [expired, 401],
          [other, 403],
        ] as const) {
          assert.equal(refusedStatus(await attempt(running.url, transport, `${topicQuery('log/a')}&token=${bad}`)), status);
        }
      }
      // Publishing, allowed and refused.
      assert.equal((await postPublish(running.url, { topic: 'log/a', data: 1 }, bearer(good))).status, 201);
      assert.equal((await postPublish(running.url, { topic: 'log/a', data: 1 }, bearer(KEY_1))).status, 201);
      const refusedPublish = await postPublish(running.url, { topic: 'log/a', data: 1 }, bearer(forged));
      assert.equal(refusedPublish.status, 401);
      // Refresh, accepted and refused, then a connection whose token expires.
      const ws = await openWs(running.url, topicQuery('log/a'), good);
      assert.equal((await ws.request({ type: 'refresh', token: refreshed }))['type'], 'refreshed');
      assert.equal((await ws.request({ type: 'refresh', token: stranger }))['code'], 'forbidden');
      assert.equal((await ws.request({ type: 'refresh', token: forged }))['code'], 'unauthorized');
      ws.close();
      const expiring = await openWs(running.url, topicQuery('log/a'), shortLived);
      assert.equal(await expiring.closed(10_000), 4001);
      // An oversized frame and a garbage frame on a token connection.
      const noisy = await openWs(running.url, topicQuery('log/a'), good);
      noisy.socket.send(`{"type":"refresh","token":"${good}"`);
      await noisy.inbox.waitForControl('error');
      noisy.close();

      const metrics = await (await fetch(`${running.url}/metrics`)).text();
      const bodies = refusedPublish.text;
      await running.close();
      const logs = stream.text;
      assert.match(logs, /SSE subscriber connected/, 'the stream captured the hub log');
      assert.match(logs, /"sub":"logged"/, 'who connected is logged, by subject');
      for (const secret of secrets) {
        assert.ok(!logs.includes(secret), `a token or key appears in the logs: ${secret.slice(0, 12)}...`);
        assert.ok(!metrics.includes(secret), 'a token or key appears in the metrics');
        assert.ok(!bodies.includes(secret), 'a token or key appears in an error body');
      }
    } finally {
      await running.close();
    }
  });
});
