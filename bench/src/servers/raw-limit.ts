/**
 * The platform limit: the least work a Node process can do per delivery. Each event
 * is serialized once and framed once (WebSocket frame via `ws`'s `Sender.frame`, SSE
 * as one prebuilt HTTP chunk); the same bytes are written to every subscriber's
 * socket. Sockets are corked on their first write of a tick and uncorked together
 * at the end of it, so several frames due in one tick leave in one writev.
 *
 * Not a product: no history, no validation, no slow-consumer limits. It answers
 * "how fast could any hub on this machine go?".
 */
import type { Duplex } from 'node:stream';
import * as wsModule from 'ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { envelope, handleHarnessRequest, handlePublishMessage, listen, parseFlags, SSE_HEADERS, Topics, topicParam } from './common.js';

type FrameFn = (data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }) => Buffer[];
const senderFrame = (wsModule as unknown as { Sender: { frame: FrameFn } }).Sender.frame;

function wsFrame(json: string): Buffer {
  return Buffer.concat(senderFrame(Buffer.from(json), { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }));
}

function sseChunk(id: string, json: string): Buffer {
  const frame = Buffer.from(`id: ${id}\ndata: ${json}\n\n`);
  return Buffer.concat([Buffer.from(`${frame.length.toString(16)}\r\n`), frame, Buffer.from('\r\n')]);
}

const wsTopics = new Topics<Duplex>();
const sseTopics = new Topics<Duplex>();
const corked: Duplex[] = [];
let flushQueued = false;

function flush(): void {
  for (const socket of corked) socket.uncork();
  corked.length = 0;
  flushQueued = false;
}

function write(socket: Duplex, bytes: Buffer): void {
  if (socket.writableCorked === 0) {
    socket.cork();
    corked.push(socket);
    if (!flushQueued) {
      flushQueued = true;
      process.nextTick(flush);
    }
  }
  socket.write(bytes);
}

function publish(topic: string, type: string, data: unknown): string {
  const event = envelope(topic, type, data);
  const json = JSON.stringify(event);
  const ws = wsTopics.get(topic);
  if (ws !== undefined) {
    const frame = wsFrame(json);
    for (const socket of ws) write(socket, frame);
  }
  const sse = sseTopics.get(topic);
  if (sse !== undefined) {
    const chunk = sseChunk(event.id, json);
    for (const socket of sse) write(socket, chunk);
  }
  return event.id;
}

const flags = parseFlags(process.argv);
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
const server = listen(flags, (req, res) => {
  if (handleHarnessRequest(req, res, publish)) return;
  const { path, topic } = topicParam(req.url);
  if (path !== '/events' || topic === null) {
    res.writeHead(404).end();
    return;
  }
  const socket = req.socket;
  socket.setNoDelay(true);
  res.writeHead(200, SSE_HEADERS);
  res.write('data: {"type":"connected"}\n\n');
  sseTopics.add(topic, socket);
  res.on('close', () => sseTopics.remove(topic, socket));
});

server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
  const { path, topic } = topicParam(req.url);
  if (path !== '/ws') {
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    const raw = (ws as unknown as { _socket: Duplex })._socket;
    if (topic !== null) {
      wsTopics.add(topic, raw);
      ws.on('close', () => wsTopics.remove(topic, raw));
    }
    ws.send('{"type":"connected"}');
    ws.on('message', (data: Buffer) => {
      const reply = handlePublishMessage(data.toString('utf8'), publish);
      if (reply !== undefined) ws.send(reply);
    });
    ws.on('error', () => undefined);
  });
});
