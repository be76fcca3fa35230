import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { metric, startHub, type RunningHub } from './helpers/hub.js';

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends a request head as written and reads the answer until the hub closes the connection. */
function rawRequest(port: number, head: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // A 101 stays open: stop at the end of its head.
      if (Buffer.concat(chunks).toString().startsWith('HTTP/1.1 101') && Buffer.concat(chunks).includes('\r\n\r\n')) socket.destroy();
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString();
      const end = text.indexOf('\r\n\r\n');
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: text.slice(end + 4) });
    });
    socket.write(head);
  });
}

const key = (): string => randomBytes(16).toString('base64');

/** An upgrade request for /ws with the standard headers, each replaceable (undefined drops it). */
function handshake(port: number, overrides: Record<string, string | undefined> = {}, method = 'GET'): string {
  const headers: Record<string, string | undefined> = {
    Host: `127.0.0.1:${port}`,
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Key': key(),
    'Sec-WebSocket-Version': '13',
    ...overrides,
  };
  const lines = Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return `${method} /ws?topic=t HTTP/1.1\r\n${lines.map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`;
}

describe('malformed WebSocket handshakes get the documented JSON errors', () => {
  let running: RunningHub;
  before(async () => {
    running = await startHub();
  });
  after(() => running.close());

  const cases: Array<{ what: string; head: () => string; status: number; code: string; header?: [string, string] }> = [
    { what: 'no Sec-WebSocket-Key', head: () => handshake(running.port, { 'Sec-WebSocket-Key': undefined }), status: 400, code: 'invalid_request' },
    {
      what: 'a Sec-WebSocket-Key that is not 16 bytes of base64',
      head: () => handshake(running.port, { 'Sec-WebSocket-Key': 'c2hvcnQ=' }),
      status: 400,
      code: 'invalid_request',
    },
    {
      what: 'Sec-WebSocket-Version 12',
      head: () => handshake(running.port, { 'Sec-WebSocket-Version': '12' }),
      status: 426,
      code: 'upgrade_required',
      header: ['sec-websocket-version', '13'],
    },
    {
      what: 'no Sec-WebSocket-Version',
      head: () => handshake(running.port, { 'Sec-WebSocket-Version': undefined }),
      status: 426,
      code: 'upgrade_required',
      header: ['sec-websocket-version', '13'],
    },
    {
      what: 'a POST',
      head: () => handshake(running.port, { 'Content-Length': '0' }, 'POST'),
      status: 405,
      code: 'method_not_allowed',
      header: ['allow', 'GET'],
    },
    { what: 'Upgrade: h2c', head: () => handshake(running.port, { Upgrade: 'h2c' }), status: 426, code: 'upgrade_required', header: ['upgrade', 'websocket'] },
    { what: 'an empty subprotocol', head: () => handshake(running.port, { 'Sec-WebSocket-Protocol': 'chat,,x' }), status: 400, code: 'invalid_request' },
    { what: 'a repeated subprotocol', head: () => handshake(running.port, { 'Sec-WebSocket-Protocol': 'chat, chat' }), status: 400, code: 'invalid_request' },
  ];

  for (const { what, head, status, code, header } of cases) {
    it(`${what}: ${status} ${code}`, async () => {
      const answer = await rawRequest(running.port, head());
      assert.equal(answer.status, status);
      assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(answer.headers['connection'], 'close');
      const body = JSON.parse(answer.body) as { error: { code: string; message: string } };
      assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message']);
      assert.equal(body.error.code, code);
      if (header !== undefined) assert.equal(answer.headers[header[0]], header[1]);
    });
  }

  it('counts the refusals, and a well-formed handshake with a subprotocol list still upgrades', async () => {
    assert.equal(await metric(running.url, 'herald_requests_rejected_total{code="invalid_request"}'), 4);
    assert.equal(await metric(running.url, 'herald_requests_rejected_total{code="upgrade_required"}'), 3);
    const answer = await rawRequest(running.port, handshake(running.port, { 'Sec-WebSocket-Protocol': 'chat, herald.v1', 'Sec-WebSocket-Version': ' 13' }));
    assert.equal(answer.status, 101);
  });
});
