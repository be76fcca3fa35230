import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { startHub } from './helpers/hub.js';

/** Sends the start of a request and never finishes it; resolves with what the hub answered before closing. */
function stall(port: number, start: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(start));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}

describe('slow requests (servers the hub creates)', () => {
  it('answer 408 request_timeout as JSON soon after headersTimeout, not after Node’s 30 s check', async () => {
    const running = await startHub({ headersTimeout: 300, requestTimeout: 600 });
    try {
      const started = Date.now();
      const answer = await stall(running.port, 'POST /publish HTTP/1.1\r\nHost: x\r\n');
      const waited = Date.now() - started;
      assert.match(answer, /^HTTP\/1\.1 408 /);
      assert.match(answer, /"code":"request_timeout"/);
      // Documented: checked every tenth of the shorter limit. Generous bound, far below Node's 30 s default.
      assert.ok(waited < 10_000, `answered after ${waited} ms`);
    } finally {
      await running.close();
    }
  });
});
