/**
 * Socket.IO as people deploy it for this job: one room per topic, `io.to(topic).emit`
 * per event. WebSocket transport only and compression off, like every server here.
 * Socket.IO encodes a broadcast once and, with compression off, pre-builds the
 * WebSocket frame once as well (socket.io-adapter `wsPreEncodedFrame`).
 */
import { Server } from 'socket.io';
import { envelope, handleHarnessRequest, listen, parseFlags } from './common.js';

const flags = parseFlags(process.argv);

function publish(topic: string, type: string, data: unknown): string {
  const event = envelope(topic, type, data);
  // `io` exists by the time a request can publish: it is created right after `listen` returns.
  io.to(topic).emit('event', event);
  return event.id;
}

const server = listen(flags, (req, res) => {
  if (!handleHarnessRequest(req, res, publish)) res.writeHead(404).end();
});

const io = new Server(server, {
  transports: ['websocket'],
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
  pingInterval: flags.heartbeatMs,
  pingTimeout: 20_000,
});

io.on('connection', (socket) => {
  const topic = socket.handshake.query['topic'];
  if (typeof topic === 'string') void socket.join(topic);
  socket.on('publish', (message: { topic?: unknown; event?: unknown; data?: unknown }, ack?: (reply: unknown) => void) => {
    if (typeof message?.topic !== 'string') return ack?.({ error: 'topic must be a string' });
    const id = publish(message.topic, typeof message.event === 'string' ? message.event : 'message', message.data ?? null);
    ack?.({ id });
  });
});
