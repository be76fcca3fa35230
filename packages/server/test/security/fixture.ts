/**
 * What the security suites share: the hubs they run against (one per configuration, by name),
 * the tokens and keys those hubs accept, and the assertions on a refused or opened subscription.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { after, before } from 'node:test';
import type { ErrorCode, HubOptions } from '../../src/index.js';
import { claimsOf, REFUSED_AFTER_UPGRADE, refusedStatus, SECRET, sign, topicQuery, type HeraldClaim, type Outcome, type Transport } from '../helpers/auth.js';
import { WsSubscriber, type Message } from '../helpers/clients.js';
import { startHub, type RunningHub } from '../helpers/hub.js';

export const AUDIENCE = 'herald-test';
export const ISSUER = 'https://auth.example';
export const KEY_1 = 'publish-key-one-0123456789abcdef';
export const KEY_2 = 'publish-key-two-0123456789abcdef';
export const APP = 'https://app.example';
export const EVIL = 'https://evil.example';

/** Alice's rights in most rows: her own topic and subtree; publishing to her outbox. */
export const ALICE: HeraldClaim = { subscribe: ['user/{sub}', 'user/{sub}/**'], publish: ['user/{sub}/outbox'] };

/** A token for the main hub: its audience and issuer, five minutes to live, unless `extra` says otherwise; `null` rights: no herald claim. */
export function token(sub: string | undefined, herald: HeraldClaim | null = ALICE, extra: Record<string, unknown> = {}): Promise<string> {
  return sign(claimsOf(sub, herald ?? undefined, { aud: AUDIENCE, iss: ISSUER, ...extra }));
}

export const pem = (key: KeyObject): string => key.export({ type: 'spki', format: 'pem' }).toString();
export const RSA = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const OTHER_RSA = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const EC = generateKeyPairSync('ec', { namedCurve: 'P-256' });
export const OTHER_EC = generateKeyPairSync('ec', { namedCurve: 'P-256' });
export const ED = generateKeyPairSync('ed25519');

export const bearer = (value: string): Record<string, string> => ({ authorization: `Bearer ${value}` });

/**
 * Asserts a refusal with the code's HTTP status, or, for a WebSocket refused for
 * its credential or rights, with the upgrade accepted, the `error` and the code's
 * close code (see `refusedStatus`).
 */
export function assertRefused(outcome: Outcome, status: number, code: ErrorCode): void {
  assert.equal(outcome.opened, false, 'the subscription must not open');
  assert.equal(outcome.code, code, outcome.body);
  assert.equal(refusedStatus(outcome), status, outcome.body);
  if (outcome.transport === 'ws' && REFUSED_AFTER_UPGRADE.has(code)) return;
  assert.match(String(outcome.headers['content-type']), /^application\/json/);
}

export function assertOpened(outcome: Outcome, transport: Transport): void {
  assert.equal(outcome.status, transport === 'sse' ? 200 : 101, outcome.body);
  assert.equal(outcome.opened, true, 'the connected message arrives');
}

export function assertErrorReply(message: Message, code: ErrorCode, ref: number | string): void {
  assert.equal(message['type'], 'error', JSON.stringify(message));
  assert.equal(message['code'], code, JSON.stringify(message));
  assert.equal(message['ref'], ref);
}

/** A WebSocket subscriber that sends `token` in the query. */
export function openWs(url: string, query: string, bearerToken?: string): Promise<WsSubscriber> {
  const auth = bearerToken === undefined ? '' : `${query === '' ? '' : '&'}token=${encodeURIComponent(bearerToken)}`;
  return WsSubscriber.open(url, `?${query}${auth}`);
}

export type Hubs = 'main' | 'rs' | 'es' | 'ed' | 'cookie' | 'ip' | 'rate' | 'origin' | 'star' | 'keys';
const HUB_OPTIONS: Record<Hubs, HubOptions> = {
  main: { jwtSecret: SECRET, jwtAudience: AUDIENCE, jwtIssuer: ISSUER, publicTopics: ['news/**'], publishKeys: [KEY_1, KEY_2] },
  rs: { jwtPublicKey: pem(RSA.publicKey) },
  es: { jwtPublicKey: pem(EC.publicKey) },
  ed: { jwtPublicKey: pem(ED.publicKey) },
  cookie: { jwtSecret: SECRET, tokenCookie: 'sid' },
  ip: { jwtSecret: SECRET, publicTopics: ['news/**'], maxConnectionsPerIp: 2 },
  rate: { jwtSecret: SECRET, publishKeys: [KEY_1, KEY_2], publishRate: 5, publishBurst: 5, wsMessageRate: 10, maxBodyBytes: 4096 },
  origin: { jwtSecret: SECRET, publicTopics: ['news/**'], publishKeys: [KEY_1], allowedOrigins: [APP] },
  star: { jwtSecret: SECRET, publicTopics: ['news/**'], allowedOrigins: ['*'] },
  keys: { publishKeys: [KEY_1] },
};

/**
 * Starts one hub per entry of HUB_OPTIONS before the calling file's tests and closes them after.
 * Call it at the top level of a test file; the hubs are there once its tests run.
 */
export function useHubs(): Record<Hubs, RunningHub> {
  const hubs = {} as Record<Hubs, RunningHub>;
  before(async () => {
    await Promise.all(
      Object.entries(HUB_OPTIONS).map(async ([name, options]) => {
        hubs[name as Hubs] = await startHub(options);
      }),
    );
  });
  after(async () => {
    await Promise.all(Object.values(hubs).map((running) => running.close()));
  });
  return hubs;
}

export const alice = (): Promise<string> => token('alice');
export const Q_ALICE = topicQuery('user/alice');
