import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { exportJWK, type JWK } from 'jose';
import {
  attempt,
  claimsOf,
  refusedStatus,
  sign,
  signWithText,
  startTinyServer,
  topicQuery,
  TRANSPORTS,
  unsignedToken,
  type HeraldClaim,
  type Outcome,
  type TinyServer,
  type Transport,
} from '../helpers/auth.js';
import { startHub, waitUntil, type RunningHub } from '../helpers/hub.js';

// A hub reading its keys from a JWKS URL. Kept apart from the other security suites because
// the refetch on an unknown `kid` is rate-limited by jose's 30 s cooldown, so that
// test has to wait it out; in its own file it runs alongside the other suites.

const ALICE: HeraldClaim = { subscribe: ['user/{sub}'] };
const Q = topicQuery('user/alice');

const RSA = generateKeyPairSync('rsa', { modulusLength: 2048 });
const EC = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ED = generateKeyPairSync('ed25519');
const ROTATED = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const STRANGER = generateKeyPairSync('rsa', { modulusLength: 2048 });

async function jwk(key: KeyObject, kid: string, alg: string): Promise<JWK> {
  return { ...(await exportJWK(key)), kid, alg, use: 'sig' };
}

function assertOpened(outcome: Outcome, transport: Transport): void {
  assert.equal(outcome.status, transport === 'sse' ? 200 : 101, outcome.body);
  assert.equal(outcome.opened, true);
}

function assertRefused(outcome: Outcome, status: number, code: string): void {
  assert.equal(outcome.opened, false);
  assert.equal(refusedStatus(outcome), status, outcome.body);
  assert.equal(outcome.code, code, outcome.body);
}

const bearer = (value: string): Record<string, string> => ({ authorization: `Bearer ${value}` });

describe('JWKS', () => {
  const keys: JWK[] = [];
  let fetches = 0;
  let jwksServer: TinyServer;
  let running: RunningHub;
  let unreachable: RunningHub;

  before(async () => {
    keys.push(await jwk(RSA.publicKey, 'rs', 'RS256'), await jwk(EC.publicKey, 'es', 'ES256'), await jwk(ED.publicKey, 'ed', 'EdDSA'));
    jwksServer = await startTinyServer((req, _body, res) => {
      if (req.url !== '/.well-known/jwks.json') {
        res.writeHead(404).end();
        return;
      }
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys }));
    });
    running = await startHub({ jwksUrl: `${jwksServer.url}/.well-known/jwks.json` });
    // A JWKS URL nothing listens on: the port of a server that has just closed.
    const gone = await startTinyServer((_req, _body, res) => res.end());
    await gone.close();
    unreachable = await startHub({ jwksUrl: `${gone.url}/jwks.json` });
  });
  after(async () => {
    await Promise.all([running.close(), unreachable.close()]);
    await jwksServer.close();
  });

  const ACCEPTED: Array<[string, () => Promise<string>]> = [
    ['RS256 (kid rs)', () => sign(claimsOf('alice', ALICE), { alg: 'RS256', key: RSA.privateKey, kid: 'rs' })],
    ['ES256 (kid es)', () => sign(claimsOf('alice', ALICE), { alg: 'ES256', key: EC.privateKey, kid: 'es' })],
    ['EdDSA (kid ed)', () => sign(claimsOf('alice', ALICE), { alg: 'EdDSA', key: ED.privateKey, kid: 'ed' })],
  ];
  for (const [name, token] of ACCEPTED) {
    for (const transport of TRANSPORTS) {
      it(`${transport}: a valid ${name} token opens`, async () => {
        assertOpened(await attempt(running.url, transport, Q, bearer(await token())), transport);
      });
    }
  }

  const REFUSED: Array<[string, () => Promise<string> | string, number, string]> = [
    ['HS256 (a shared secret) under kid rs', () => sign(claimsOf('alice', ALICE), { kid: 'rs' }), 401, 'unauthorized'],
    [
      'HS256 signed with the RSA public key PEM (key confusion)',
      () => signWithText(claimsOf('alice', ALICE), RSA.publicKey.export({ type: 'spki', format: 'pem' }).toString()),
      401,
      'unauthorized',
    ],
    [
      'HS256 with the n of the RSA JWK as the secret',
      async () => signWithText(claimsOf('alice', ALICE), String((await exportJWK(RSA.publicKey)).n)),
      401,
      'unauthorized',
    ],
    ['alg none with kid rs', () => unsignedToken(claimsOf('alice', ALICE), { alg: 'none', kid: 'rs' }), 401, 'unauthorized'],
    ['RS256 by another key under kid rs', () => sign(claimsOf('alice', ALICE), { alg: 'RS256', key: STRANGER.privateKey, kid: 'rs' }), 401, 'unauthorized'],
    [
      'RS256 by another key with an unknown kid',
      () => sign(claimsOf('alice', ALICE), { alg: 'RS256', key: STRANGER.privateKey, kid: 'stranger' }),
      401,
      'unauthorized',
    ],
    [
      'an expired RS256 token',
      () => sign(claimsOf('alice', ALICE, { exp: Math.floor(Date.now() / 1000) - 60 }), { alg: 'RS256', key: RSA.privateKey, kid: 'rs' }),
      401,
      'token_expired',
    ],
    ['a valid RS256 token for another topic', () => sign(claimsOf('bob', ALICE), { alg: 'RS256', key: RSA.privateKey, kid: 'rs' }), 403, 'forbidden'],
  ];
  for (const [name, token, status, code] of REFUSED) {
    for (const transport of TRANSPORTS) {
      it(`${transport}: ${name} -> ${status} ${code}`, async () => {
        assertRefused(await attempt(running.url, transport, Q, bearer(await token())), status, code);
      });
    }
  }

  it('fetched the set once for all of the above (it is cached)', () => {
    assert.equal(fetches, 1);
  });

  for (const transport of TRANSPORTS) {
    it(`${transport}: an unreachable JWKS refuses every token (fail closed)`, async () => {
      const outcome = await attempt(unreachable.url, transport, Q, bearer(await ACCEPTED[0]![1]()));
      assert.equal(outcome.opened, false);
      const status = refusedStatus(outcome);
      assert.ok(status === 401 || status === 503, `status ${status}`);
    });
  }

  it('a key added to the set is fetched on its unknown kid, once the cooldown allows, and old keys keep working', { timeout: 60_000 }, async () => {
    const rotated = (): Promise<string> => sign(claimsOf('alice', ALICE), { alg: 'ES256', key: ROTATED.privateKey, kid: 'rotated' });
    // Unknown kids within the cooldown do not make the hub hammer the JWKS endpoint.
    const before = fetches;
    for (let i = 0; i < 5; i++) {
      const probe = await sign(claimsOf('alice', ALICE), { alg: 'ES256', key: ROTATED.privateKey, kid: `unknown-${i}` });
      assertRefused(await attempt(running.url, 'sse', Q, bearer(probe)), 401, 'unauthorized');
    }
    assert.equal(fetches, before, 'no fetch per unknown kid');

    keys.push(await jwk(ROTATED.publicKey, 'rotated', 'ES256'));
    let attempts = 0;
    // jose refetches the set for an unknown kid at most every 30 s (its cooldown).
    await waitUntil(
      async () => {
        attempts++;
        const outcome = await attempt(running.url, attempts % 2 === 0 ? 'ws' : 'sse', Q, bearer(await rotated()));
        if (!outcome.opened) {
          assert.equal(refusedStatus(outcome), 401, outcome.body);
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
        return outcome.opened;
      },
      'the rotated key to be fetched',
      45_000,
    );
    assert.equal(fetches, before + 1, 'the set was fetched again, once');
    for (const transport of TRANSPORTS) {
      assertOpened(await attempt(running.url, transport, Q, bearer(await rotated())), transport);
      assertOpened(await attempt(running.url, transport, Q, bearer(await ACCEPTED[0]![1]())), transport);
    }
    assert.equal(fetches, before + 1);
  });
});
