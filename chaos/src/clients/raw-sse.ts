import { request, type ClientRequest } from 'node:http';
import { createSseParser } from '@herald/protocol';
import { SubscriberLog } from '../subscriber-log.js';
import { reconnectDelay, type ChaosClient } from './client.js';
import { handleMessage, type RawState } from './raw-messages.js';

/**
 * A hand-written SSE subscriber: `GET /events?topic=…`, resuming with
 * `Last-Event-ID` set to the last event id it received, as EventSource does.
 */
export function rawSseClient(url: () => string, log: SubscriberLog, random: () => number): ChaosClient {
  const state: RawState = { lastId: undefined, everConnected: false, closed: false };
  let current: ClientRequest | undefined;
  let timer: NodeJS.Timeout | undefined;

  const connect = (): void => {
    if (state.closed) return;
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (state.lastId !== undefined) headers['last-event-id'] = state.lastId;
    const target = new URL(`${url()}/events?topic=${encodeURIComponent(log.pattern)}`);
    const decoder = new TextDecoder();
    const parser = createSseParser({ onMessage: (message) => handleMessage(message.data, state, log) });
    let ended = false;
    const again = (): void => {
      if (ended) return;
      ended = true;
      current = undefined;
      if (!state.closed) timer = setTimeout(connect, reconnectDelay(random));
    };
    state.lastConnectionHadPosition = state.lastId !== undefined;
    const req = request(target, { headers, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        log.note(`GET /events answered ${res.statusCode}`);
        res.resume();
        res.on('end', again).on('error', again).on('close', again);
        return;
      }
      res.on('data', (chunk: Buffer) => parser.feed(decoder.decode(chunk, { stream: true })));
      res.on('end', again).on('error', again).on('close', again);
    });
    req.on('error', again);
    req.end();
    current = req;
  };

  connect();
  return {
    kind: 'raw-sse',
    log,
    close: async () => {
      state.closed = true;
      if (timer !== undefined) clearTimeout(timer);
      current?.destroy();
    },
  };
}
