import type { ErrorCode } from './errors.js';

/** Why the hub sent `reset`: it cannot prove the client saw every event since its last id. */
export type ResetReason =
  /** The id is not in the log: another epoch (a restarted in-memory hub), a wiped log, or never issued. */
  | 'unknown_id'
  /** The id was in the log but events after it have been trimmed by retention. */
  | 'expired';

/** First message on every SSE stream and WebSocket, sent once initial subscriptions are registered. */
export interface ConnectedMessage {
  type: 'connected';
  connectionId: string;
  /** Heartbeat interval in milliseconds. */
  heartbeat: number;
  /** True when the connection resumed from a known id with nothing missing. */
  resumed: boolean;
  /**
   * The connection's resume position from this moment: the id to resume from if it
   * drops before its first event (SSE also sends it as the frame's `id:` field, so
   * plain EventSource keeps it). After a resume it is the id resumed from. When
   * `reset`s follow, it holds only once they are handled (SSE then sends the `id:`
   * with the last `reset`). Hubs always send it; it is optional for older hubs.
   */
  lastEventId?: string;
  /**
   * Every pattern the connection holds from the start: the ones it asked for and
   * the server-chosen ones (the token's `herald.topics`, the authorization
   * hook's answer). Sent when there is at least one; optional for older hubs.
   */
  topics?: string[];
  /** Who the hub took the caller for, on a connection opened with a token. */
  principal?: ConnectedPrincipal;
}

/** The principal as `connected` names it: the token's `sub` and the claims the operator exposes (`exposeClaims`). */
export interface ConnectedPrincipal {
  /** The token's `sub`; absent when the token has none. */
  sub?: string;
  /** The claims named by the hub's `exposeClaims` setting that the token has; `{}` by default. */
  claims: Record<string, unknown>;
}

/**
 * Delivery has stopped because this hub node cannot read the event log (Redis is
 * down, stalled or partitioned). The connection stays open; `resumed` (after any
 * `reset`) follows when delivery continues.
 */
export interface PausedMessage {
  type: 'paused';
  /** Why: today always `log_unavailable`. */
  reason: 'log_unavailable';
}

/**
 * Delivery continues after `paused`. When events were lost meanwhile, a `reset` per
 * affected topic comes first; otherwise nothing was missed.
 */
export interface ResumedMessage {
  type: 'resumed';
}

/** Sent every heartbeat interval so clients can detect a dead connection. */
export interface HeartbeatMessage {
  type: 'heartbeat';
}

/** The client must reload its state for `topic`: events may have been missed. */
export interface ResetMessage {
  type: 'reset';
  topic: string;
  reason: ResetReason;
}

/** A refusal or a notice that the connection is ending. */
export interface ErrorMessage {
  type: 'error';
  code: ErrorCode;
  message: string;
  /** The `ref` of the WebSocket request this answers, if any. */
  ref?: number | string;
  /** With `shutting_down`: milliseconds the client should wait before reconnecting. */
  retryAfter?: number;
}

/** WebSocket reply to `subscribe`. */
export interface SubscribedMessage {
  type: 'subscribed';
  ref?: number | string;
  topics: string[];
}

/**
 * WebSocket reply to `unsubscribe`. Also sent unasked, without `ref` and with
 * `reason` `forbidden`, on either transport, when the hub ends subscriptions the
 * caller is no longer allowed: after a `refresh` whose token no longer covers
 * them, or when the periodic re-check (`reauthorizeInterval`) finds that the
 * authorization hook refuses them now. The connection and its other
 * subscriptions go on.
 */
export interface UnsubscribedMessage {
  type: 'unsubscribed';
  ref?: number | string;
  topics: string[];
  reason?: 'forbidden';
}

/** WebSocket reply to `refresh`: the new token is in force. */
export interface RefreshedMessage {
  type: 'refreshed';
  ref?: number | string;
  /** When the connection will end unless refreshed again, in ms since the epoch; null without `exp`. */
  expiresAt: number | null;
}

/** WebSocket reply to `ping`. */
export interface PongMessage {
  type: 'pong';
  ref?: number | string;
}

/** WebSocket reply to `publish`: the event's id (the original id when it was a duplicate). */
export interface PublishedMessage {
  type: 'published';
  ref?: number | string;
  id: string;
  /** True when the id was already in the log and nothing new was published. */
  duplicate: boolean;
}

/** Every control message the hub sends. */
export type ControlMessage =
  | ConnectedMessage
  | HeartbeatMessage
  | ResetMessage
  | ErrorMessage
  | SubscribedMessage
  | UnsubscribedMessage
  | PongMessage
  | PublishedMessage
  | RefreshedMessage
  | PausedMessage
  | ResumedMessage;
