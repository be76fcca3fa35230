/**
 * A POST whose body runs past its Content-Length: the hub reads the announced
 * bytes as the request (a valid publish here) and cannot parse the rest. The
 * publish was made, so the client must get its 201, not a 400 that says the
 * request was invalid (found by the live fuzz run, seed -2002945731).
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startHub, waitUntil, type RunningHub } from './helpers/hub.js';

function exchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
}

describe('bytes after a request body', () => {
  let running: RunningHub;
  before(async () => {
    running = await startHub();
  });
  after(async () => {
    await running.close();
  });

  it('the request that was read gets its own answer (201 with the id), and its event is in the log', async () => {
    const body = '{"topic":"pg/a","data":false}';
    const request = `POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}\``;
    const answer = await exchange(running.port, request);
    assert.match(answer, /^HTTP\/1\.1 201 /, `the publish's own answer comes first: ${JSON.stringify(answer.slice(0, 120))}`);
    const id = (JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { ids: string[] }).ids[0];
    await waitUntil(() => running.hub.broker.head() !== null, 'the event in the log');
    const read = await running.hub.broker.read(running.hub.broker.positionId(null), running.hub.broker.head());
    assert.ok(read.ok && read.events.some((event) => event.envelope.id === id), 'the acknowledged event is in the log');
  });
});
