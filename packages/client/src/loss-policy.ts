import { clientActionOf, clientActionOfStatus, closeCodeEntry, HeraldError, isErrorCode, type ClientAction, type HubError } from '@herald/protocol';
import type { TransportEnd } from './transport.js';

/** The hub's `error` without a ref: it is ending the connection and says why; the close follows. */
export type Goodbye = Pick<HubError, 'code' | 'retryAfter'>;

/** What ended a connection: the transport's account plus the hub's goodbye, if it sent one. */
export interface Loss {
  end: TransportEnd;
  goodbye: Goodbye | undefined;
  /** The connection got `connected` before it ended. */
  wasConnected: boolean;
}

/**
 * What to do after a loss: the error to give up with, the delay in milliseconds
 * to retry after, or `back_off` (the client counts the failure and picks the delay).
 */
export type NextStep = HeraldError | number | 'back_off';

/**
 * The error code that explains a loss: the goodbye's, else the code of the hub's
 * HTTP refusal, else the one the error catalog gives the close code (when the
 * `error` message before the close was lost).
 */
export function lossCode(loss: Loss): string | undefined {
  return loss.goodbye?.code ?? loss.end.code ?? closeCodeEntry(loss.end.closeCode)?.code;
}

/**
 * What the error catalog says to do after a loss (see `ClientAction` in
 * @herald/protocol): the action of its code; for an HTTP refusal with no code
 * this version knows, the action of its status; else of its close code. A loss
 * with none of them (a cut connection, silence, a timeout) is backed off.
 */
function lossAction(loss: Loss): ClientAction {
  const code = lossCode(loss);
  if (isErrorCode(code)) return clientActionOf(code);
  if (loss.end.status !== undefined) return clientActionOfStatus(loss.end.status);
  return closeCodeEntry(loss.end.closeCode)?.client ?? 'back_off';
}

/** Decides, from the catalog's action, how the client goes on after a loss. `refreshable`: `getToken` can fetch another token. */
export function nextStep(loss: Loss, refreshable: boolean): NextStep {
  const code = lossCode(loss);
  const known = isErrorCode(code) ? code : undefined;
  switch (lossAction(loss)) {
    case 'give_up':
      return new HeraldError(known ?? 'invalid_request', `the hub refused the connection: ${loss.end.reason}`);
    case 'fresh_token':
      if (!refreshable) return new HeraldError(known ?? 'unauthorized', 'the hub refused the token and there is no getToken to fetch another');
      // The connection was fine until the token ran out: get a fresh one now and resume.
      return loss.wasConnected ? 0 : 'back_off';
    case 'wait':
      // The hub spreads its clients' returns over a window; coming back earlier defeats it.
      return loss.goodbye?.retryAfter ?? 'back_off';
    case 'resume':
    case 'back_off':
      // Resume waits the first back-off step too: after a connection that worked the failure count is zero.
      return 'back_off';
  }
}
