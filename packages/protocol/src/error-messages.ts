/**
 * The default message of each error code (errors.ts holds the codes). Kept apart
 * so browser builds can swap this file for error-messages.browser.ts (see the
 * `browser` field of package.json) and leave some 2 KB of text out of the client.
 * A test checks that every code has a message here and nothing else does.
 */
export const ERROR_MESSAGES: Readonly<Record<string, string>> = {
  invalid_json: 'The body or frame is not valid JSON.',
  invalid_request: 'The request does not have the documented shape.',
  invalid_topic: 'A topic or topic pattern is not valid.',
  invalid_type: 'The event type is not valid.',
  reserved_type: 'The event type is the name of a control message.',
  invalid_id: 'The event id is not valid.',
  invalid_since: 'The resume position (Last-Event-ID, lastEventId or since) is not valid.',
  invalid_filter: 'The subscription filter is not valid.',
  too_many_topics: 'The connection would hold more topics than allowed.',
  invalid_data: 'The event data cannot be serialized as JSON (nested too deeply, circular, or not JSON).',
  event_too_large: 'The serialized event data is larger than allowed.',
  payload_too_large: 'The request body is larger than allowed.',
  unsupported_media_type: 'The request body must be application/json.',
  request_timeout: 'The request took too long to arrive.',
  header_too_large: 'The request headers are larger than allowed.',
  not_found: 'No such endpoint.',
  method_not_allowed: 'The endpoint does not accept this method.',
  upgrade_required: 'This endpoint needs a WebSocket upgrade.',
  unauthorized: 'A valid token is required.',
  token_expired: 'The token has expired or was revoked; reconnect with a fresh token.',
  forbidden: 'The token does not grant this.',
  authorization_unavailable: 'The authorization hook did not answer; try again.',
  origin_not_allowed: 'Requests from this Origin are not allowed.',
  rate_limited: 'Too many requests; slow down.',
  too_many_connections_from_ip: 'This address holds as many connections as allowed.',
  too_many_connections: 'The hub holds as many connections as allowed.',
  unsupported_data: 'Only JSON text frames are accepted.',
  frame_too_large: 'The WebSocket frame is larger than allowed.',
  slow_consumer: 'The connection could not keep up and was dropped; reconnect and resume.',
  shutting_down: 'The hub is shutting down; reconnect after the suggested delay.',
  broker_unavailable: 'The event log is not reachable; try again. A refused publish published nothing.',
  outcome_unknown: 'The event log stopped answering during the publish; the events may or may not be in the log. Retry with the same publisher ids.',
  internal_error: 'An unexpected error occurred in the hub.',
};
