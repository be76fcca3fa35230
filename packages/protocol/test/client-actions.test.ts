import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  catalogCloseCodes,
  clientActionOf,
  clientActionOfStatus,
  closeCodeEntry,
  closeCodeOf,
  ERRORS,
  LIBRARY_CLOSE_CODES,
  type ErrorCode,
} from '../src/index.js';

const CODES = Object.keys(ERRORS) as ErrorCode[];

describe('the catalog decides client behaviour', () => {
  it('lists every close code of the error catalog, under its error code and with its action', () => {
    for (const code of CODES) {
      const close = closeCodeOf(code);
      if (close === undefined) continue;
      assert.equal(closeCodeEntry(close)?.code, code, `close ${close}`);
      assert.equal(closeCodeEntry(close)?.client, clientActionOf(code), `action of close ${close}`);
    }
  });

  it('gives the library close codes no error code, and no error code uses one', () => {
    for (const [close, client] of Object.entries(LIBRARY_CLOSE_CODES)) assert.deepEqual(closeCodeEntry(Number(close)), { client });
    const closes = catalogCloseCodes();
    assert.deepEqual(closes, [...new Set(closes)], 'each close code has one meaning');
  });

  it('has no entry for close codes the hub does not use', () => {
    for (const close of [undefined, 1000, 1001, 1006, 4000, 0]) assert.equal(closeCodeEntry(close), undefined, String(close));
  });

  it('gives a refusal without a known code the strictest action of its status', () => {
    // The statuses the client has always given up on, and the one that needs a fresh token.
    for (const status of [400, 403, 404, 405, 426]) assert.equal(clientActionOfStatus(status), 'give_up', String(status));
    assert.equal(clientActionOfStatus(401), 'fresh_token');
    for (const status of [408, 413, 415, 429, 431, 500, 502, 503, 504, 302, 200]) assert.equal(clientActionOfStatus(status), 'back_off', String(status));
  });

  it('gives up only on codes whose status the client gives up on', () => {
    for (const code of CODES) {
      if (clientActionOf(code) === 'give_up') assert.equal(clientActionOfStatus(ERRORS[code].status), 'give_up', code);
    }
  });
});
