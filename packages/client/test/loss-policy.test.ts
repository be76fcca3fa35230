import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalogCloseCodes, ERRORS, HeraldError, isErrorCode } from '@herald/protocol';
import { nextStep, type Goodbye, type Loss, type NextStep } from '../src/loss-policy.js';
import type { TransportEnd } from '../src/transport.js';

/**
 * The client's rules before the catalog decided them (client.ts up to issue 11),
 * kept as the reference: the catalog's actions must give the same decision for
 * every loss a hub can cause.
 */
function previousRules(loss: Loss, refreshable: boolean): NextStep {
  const FATAL_STATUSES = new Set([400, 403, 404, 405, 426]);
  const CLOSE_CODES: Record<number, string> = {
    4001: 'token_expired',
    1012: 'shutting_down',
    4009: 'slow_consumer',
    // Issue 12's refusals after the upgrade, named as the HTTP refusals they replace were.
    4401: 'unauthorized',
    4403: 'forbidden',
    4503: 'authorization_unavailable',
  };
  const { goodbye, wasConnected } = loss;
  // Issue 12: a WebSocket refused for its credential or rights is upgraded, then
  // closed with 4000 + the HTTP status it used to be refused with; it means that refusal.
  const refusedWith = UPGRADE_REFUSALS[loss.end.closeCode ?? 0];
  const end: TransportEnd = refusedWith === undefined || loss.end.status !== undefined ? loss.end : { ...loss.end, status: refusedWith };
  const code = goodbye?.code ?? end.code ?? CLOSE_CODES[end.closeCode ?? 0];
  const unauthorized = end.status === 401 || end.closeCode === 4001 || code === 'unauthorized' || code === 'token_expired';
  if (unauthorized && !refreshable)
    return new HeraldError(isErrorCode(code) ? code : 'unauthorized', 'the hub refused the token and there is no getToken to fetch another');
  if (end.status !== undefined && FATAL_STATUSES.has(end.status))
    return new HeraldError(isErrorCode(code) ? code : 'invalid_request', `the hub refused the connection: ${end.reason}`);
  if (wasConnected && code === 'token_expired') return 0;
  if (code === 'shutting_down' && goodbye?.retryAfter !== undefined) return goodbye.retryAfter;
  return 'back_off';
}

function same(actual: NextStep, expected: NextStep, what: string): void {
  if (expected instanceof HeraldError) {
    assert.ok(actual instanceof HeraldError, `${what}: gives up`);
    assert.equal(actual.code, expected.code, `${what}: code`);
    assert.equal(actual.message, expected.message, `${what}: message`);
  } else {
    assert.equal(actual, expected, what);
  }
}

/** Close codes a hub sends only to a WebSocket it upgraded to refuse (never after `connected`), with the HTTP status they replace. */
const UPGRADE_REFUSALS: Record<number, number> = { 4401: 401, 4403: 403, 4503: 503 };

/** [errors.md] Codes whose HTTP status is "(unused)": no HTTP request can be refused with them. */
const NO_HTTP_REFUSAL = new Set(['unsupported_data', 'frame_too_large', 'slow_consumer']);

/** Every loss a hub can cause, as the transports report them. */
function losses(): Array<{ what: string; loss: Loss }> {
  const result: Array<{ what: string; loss: Loss }> = [];
  const add = (what: string, end: TransportEnd, goodbye?: Goodbye, wasConnected = false): void => {
    result.push({ what, loss: { end, goodbye, wasConnected } });
  };
  for (const [code, entry] of Object.entries(ERRORS)) {
    // An SSE request refused with the code's status and body.
    if (!NO_HTTP_REFUSAL.has(code)) add(`HTTP ${entry.status} ${code}`, { opened: false, status: entry.status, code, reason: `HTTP ${entry.status} ${code}` });
    if (!('close' in entry)) continue;
    // A goodbye (with and without retryAfter), then the close; and the close alone, its error message lost.
    for (const wasConnected of UPGRADE_REFUSALS[entry.close] === undefined ? [true, false] : [false]) {
      const end: TransportEnd = { opened: true, closeCode: entry.close, reason: code };
      add(`goodbye ${code} (connected: ${wasConnected})`, end, { code }, wasConnected);
      add(`goodbye ${code} with retryAfter (connected: ${wasConnected})`, end, { code, retryAfter: 1234 }, wasConnected);
      add(`close ${entry.close} alone (connected: ${wasConnected})`, end, undefined, wasConnected);
    }
  }
  // Answers without a Herald body (a proxy, a wrong URL) and cuts without a code.
  for (const status of [400, 401, 403, 404, 405, 426, 429, 500, 502, 503, 504])
    add(`HTTP ${status} without code`, { opened: false, status, reason: `HTTP ${status}` });
  for (const close of [...catalogCloseCodes(), 1000, 1001, 1006])
    add(`close ${close}, no goodbye`, { opened: true, closeCode: close, reason: 'closed' }, undefined, UPGRADE_REFUSALS[close] === undefined);
  add('silence', { opened: true, reason: 'nothing received for 2250 ms' }, undefined, true);
  add('connect timeout', { opened: false, reason: 'connect timeout' });
  add('getToken failed', { opened: false, reason: 'getToken failed: x' });
  add('subscribe refused for now', { opened: true, code: 'broker_unavailable', reason: 'subscribe refused for now: x' }, undefined, true);
  return result;
}

describe('the loss policy follows the error catalog', () => {
  it('decides every loss a hub can cause as the client always has', () => {
    for (const refreshable of [true, false]) {
      for (const { what, loss } of losses()) same(nextStep(loss, refreshable), previousRules(loss, refreshable), `${what}, refreshable: ${refreshable}`);
    }
  });

  it('gives up on a refusal no retry can fix, naming its code', () => {
    const step = nextStep(
      { end: { opened: false, status: 403, code: 'forbidden', reason: 'HTTP 403 forbidden' }, goodbye: undefined, wasConnected: false },
      true,
    );
    assert.ok(step instanceof HeraldError && step.code === 'forbidden');
  });

  it("reconnects at once after a token ran out on a working connection, and waits the hub's retryAfter", () => {
    const expired: Loss = { end: { opened: true, closeCode: 4001, reason: 'token_expired' }, goodbye: { code: 'token_expired' }, wasConnected: true };
    assert.equal(nextStep(expired, true), 0);
    const shutdown: Loss = {
      end: { opened: true, closeCode: 1012, reason: 'shutting_down' },
      goodbye: { code: 'shutting_down', retryAfter: 700 },
      wasConnected: true,
    };
    assert.equal(nextStep(shutdown, true), 700);
  });
});
