import WebSocket from 'ws';
import type { SubscriberLog } from '../subscriber-log.js';
import { reconnectDelay, type ChaosClient } from './client.js';
import { handleMessage, type RawState } from './raw-messages.js';

/**
 * A hand-written WebSocket subscriber: `/ws?topic=…&since=<last id>`, so every
 * reconnect resumes in the URL, in one ordered replay.
 */
export function rawWsClient(url: () => string, log: SubscriberLog, random: () => number): ChaosClient {
  const state: RawState = { lastId: undefined, everConnected: false, closed: false };
  let socket: WebSocket | undefined;
  let timer: NodeJS.Timeout | undefined;

  const connect = (): void => {
    if (state.closed) return;
    const base = url().replace(/^http/, 'ws');
    const since = state.lastId === undefined ? '' : `&since=${encodeURIComponent(state.lastId)}`;
    state.lastConnectionHadPosition = state.lastId !== undefined;
    const ws = new WebSocket(`${base}/ws?topic=${encodeURIComponent(log.pattern)}${since}`, { handshakeTimeout: 3000 });
    socket = ws;
    let ended = false;
    const again = (): void => {
      if (ended) return;
      ended = true;
      socket = undefined;
      if (!state.closed) timer = setTimeout(connect, reconnectDelay(random));
    };
    ws.on('message', (data: Buffer) => handleMessage(data.toString(), state, log));
    ws.on('close', again).on('error', again);
  };

  connect();
  return {
    kind: 'raw-ws',
    log,
    close: async () => {
      state.closed = true;
      if (timer !== undefined) clearTimeout(timer);
      socket?.terminate();
    },
  };
}
