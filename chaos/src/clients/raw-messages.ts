import { SubscriberLog } from '../subscriber-log.js';

/** What a raw client keeps between connections. */
export interface RawState {
  /** The resume position: the last event id received (or the hub's `connected.lastEventId`). */
  lastId: string | undefined;
  /** True once a connection has been confirmed. */
  everConnected: boolean;
  closed: boolean;
  /** Whether the connection being opened resumes from a position. */
  lastConnectionHadPosition?: boolean;
}

/**
 * Handles one decoded hub message for a raw client: events go to the log and move
 * the resume position; `connected` confirms (and, when a reconnect had no position
 * to resume from, records a client-side `no_position` reset, as the SDK does, since
 * events published while it was away cannot be replayed); `reset` is recorded.
 */
export function handleMessage(text: string, state: RawState, log: SubscriberLog): void {
  let message: Record<string, unknown>;
  try {
    message = JSON.parse(text) as Record<string, unknown>;
  } catch {
    log.note(`unparseable message: ${text.slice(0, 80)}`);
    return;
  }
  if (typeof message['id'] === 'string' && typeof message['topic'] === 'string') {
    state.lastId = message['id'];
    const key = SubscriberLog.keyOf(message);
    if (key !== undefined) log.event(key, message['id']);
    return;
  }
  switch (message['type']) {
    case 'connected':
    case 'subscribed': {
      const hadPosition = state.lastConnectionHadPosition === true;
      if (state.lastId === undefined && typeof message['lastEventId'] === 'string') state.lastId = message['lastEventId'];
      log.confirmed();
      if (state.everConnected && !hadPosition) log.reset(log.pattern, 'no_position');
      state.everConnected = true;
      return;
    }
    case 'reset':
      log.reset(String(message['topic']), String(message['reason']));
      return;
    case 'paused':
      log.paused += 1;
      return;
    case 'resumed':
      log.resumed += 1;
      return;
    case 'error':
      log.note(`error ${String(message['code'])}`);
      return;
    default:
      return;
  }
}
