/**
 * The hand-rolled hub most people write first: a `ws` server that loops over the
 * topic's clients and does `ws.send(JSON.stringify(event))` for each, and the SSE
 * equivalent, `res.write(\`id: …\ndata: ${JSON.stringify(event)}\n\n\`)` per client.
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { envelope, handleHarnessRequest, handlePublishMessage, listen, parseFlags, SSE_HEADERS, Topics, topicParam } from './common.js';

const wsTopics = new Topics<WebSocket>();
const sseTopics = new Topics<ServerResponse>();

function publish(topic: string, type: string, data: unknown): string {
  const event = envelope(topic, type, data);
  for (const ws of wsTopics.get(topic) ?? []) {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(event));
  }
  for (const res of sseTopics.get(topic) ?? []) {
    res.write(`id: ${event.id}\ndata: ${JSON.stringify(event)}\n\n`);
  }
  return event.id;
}

const flags = parseFlags(process.argv);
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
const server = listen(flags, (req, res) => {
  if (handleHarnessRequest(req, res, publish)) return;
  const { path, topic } = topicParam(req.url);
  if (path !== '/events' || topic === null) {
    res.writeHead(404).end();
    return;
  }
  req.socket.setNoDelay(true);
  res.writeHead(200, SSE_HEADERS);
  res.write('data: {"type":"connected"}\n\n');
  sseTopics.add(topic, res);
  res.on('close', () => sseTopics.remove(topic, res));
});

server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
  const { path, topic } = topicParam(req.url);
  if (path !== '/ws') {
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    if (topic !== null) {
      wsTopics.add(topic, ws);
      ws.on('close', () => wsTopics.remove(topic, ws));
    }
    ws.send('{"type":"connected"}');
    ws.on('message', (data: Buffer) => {
      const reply = handlePublishMessage(data.toString('utf8'), publish);
      if (reply !== undefined) ws.send(reply);
    });
    ws.on('error', () => undefined);
  });
});
