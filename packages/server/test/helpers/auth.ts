import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { SignJWT, type JWTPayload } from 'jose';
import { closeCodeOf, statusOf, type ErrorCode } from '@herald/protocol';
import WebSocket from 'ws';

/** The HS256 secret the auth suites' hubs use (32+ characters). */
export const SECRET = 'herald-test-secret-0123456789-abcdefghijklmnop';
/** A different secret of the same length, for bad signatures. */
export const OTHER_SECRET = 'herald-other-secret-0123456789-abcdefghijklmno';

/** The two subscriber transports. */
export type Transport = 'sse' | 'ws';
export const TRANSPORTS: readonly Transport[] = ['sse', 'ws'];

/** Now, in JWT seconds. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** The `herald` claim: subscribe and publish patterns, and the topics its connections are subscribed to. */
export interface HeraldClaim {
  subscribe?: string[];
  publish?: string[];
  topics?: string[];
}

/** Claims of a token: `sub`, `iat`, an `exp` five minutes ahead, the `herald` claim, then `extra` (which may override or, as undefined, remove any of them). */
export function claimsOf(sub: string | undefined, herald: HeraldClaim | undefined, extra: Record<string, unknown> = {}): JWTPayload & Record<string, unknown> {
  const claims: Record<string, unknown> = { iat: nowSeconds(), exp: nowSeconds() + 300 };
  if (sub !== undefined) claims['sub'] = sub;
  if (herald !== undefined) claims['herald'] = herald;
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete claims[name];
    else claims[name] = value;
  }
  return claims;
}

/** Signs claims as a JWT; HS256 with {@link SECRET} unless told otherwise. */
export function sign(
  claims: JWTPayload & Record<string, unknown>,
  options: { alg?: string; key?: Uint8Array | KeyObject; kid?: string } = {},
): Promise<string> {
  const alg = options.alg ?? 'HS256';
  const key = options.key ?? new TextEncoder().encode(SECRET);
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT', ...(options.kid === undefined ? {} : { kid: options.kid }) }).sign(key);
}

/** An HS256 token signed with a secret given as text (such as a PEM, for key-confusion tests). */
export function signWithText(claims: JWTPayload & Record<string, unknown>, secret: string, alg = 'HS256'): Promise<string> {
  return sign(claims, { alg, key: new TextEncoder().encode(secret) });
}

const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An unsecured JWT crafted by hand: `{"alg":"none"}` header, payload, empty signature (or the one given). */
export function unsignedToken(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'none', typ: 'JWT' }, signature = ''): string {
  return `${base64url(header)}.${base64url(claims)}.${signature}`;
}

/** Replaces a token's payload and keeps its header and signature. */
export function withPayload(token: string, claims: Record<string, unknown>): string {
  const [header, , signature] = token.split('.');
  return `${header}.${base64url(claims)}.${signature}`;
}

/** What happened to one attempt to open a subscription. */
export interface Outcome {
  transport: Transport;
  /** 200 for an SSE stream, 101 for an accepted upgrade, else the refusal's status. */
  status: number;
  /** True once the `connected` message arrived. */
  opened: boolean;
  /** The `error.code` of a refusal's JSON body, or of the `error` before the close of an upgraded WebSocket. */
  code: string | undefined;
  /** The close code of an upgraded WebSocket that closed before `connected` (a refusal after the upgrade). */
  closeCode?: number;
  body: string;
  headers: IncomingHttpHeaders;
}

function codeOf(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

/**
 * Tries to open `GET /events?<query>` or the upgrade `/ws?<query>` with extra
 * request headers; resolves once `connected` arrives (then closes) or with the
 * refusal. `query` is used exactly as given (already encoded).
 */
export function attempt(url: string, transport: Transport, query: string, headers: Record<string, string> = {}): Promise<Outcome> {
  return transport === 'sse' ? attemptSse(url, query, headers) : attemptWs(url, query, headers);
}

function attemptSse(url: string, query: string, headers: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/events?${query}`, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const status = res.statusCode ?? 0;
      const text = (): string => Buffer.concat(chunks).toString('utf8');
      let settled = false;
      const finish = (opened: boolean): void => {
        if (settled) return;
        settled = true;
        resolve({ transport: 'sse', status, opened, code: status === 200 ? undefined : codeOf(text()), body: text(), headers: res.headers });
      };
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (status === 200 && text().includes('"type":"connected"')) {
          finish(true);
          req.destroy();
        }
      });
      res.on('end', () => finish(false));
      res.on('close', () => finish(false));
      res.on('error', () => undefined);
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`no answer to GET /events?${query}`)));
    req.end();
  });
}

function attemptWs(url: string, query: string, headers: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws?${query}`, { headers, handshakeTimeout: 5000 });
    let upgradeHeaders: IncomingHttpHeaders = {};
    socket.on('upgrade', (res) => (upgradeHeaders = res.headers));
    socket.on('unexpected-response', (req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        req.destroy();
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ transport: 'ws', status: res.statusCode ?? 0, opened: false, code: codeOf(body), body, headers: res.headers });
      });
    });
    // A refusal after the upgrade (credential or rights): an `error`, then a 4xxx close.
    let goodbye: { code?: string } | undefined;
    let goodbyeText = '';
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type?: string; code?: string };
      if (message.type === 'error') {
        goodbye = message;
        goodbyeText = String(data);
      }
      if (message.type === 'connected') {
        socket.terminate();
        resolve({ transport: 'ws', status: 101, opened: true, code: undefined, body: '', headers: upgradeHeaders });
      }
    });
    socket.on('close', (closeCode) =>
      resolve({ transport: 'ws', status: 101, opened: false, code: goodbye?.code, closeCode, body: goodbyeText, headers: upgradeHeaders }),
    );
    socket.on('error', reject);
  });
}

/** The codes a WebSocket upgrade is refused with after the upgrade (an `error`, then a 4xxx close) instead of over HTTP. */
export const REFUSED_AFTER_UPGRADE: ReadonlySet<string> = new Set(['unauthorized', 'token_expired', 'forbidden', 'authorization_unavailable']);

/**
 * The HTTP status a refused attempt stands for: the answer's status, or, for a
 * WebSocket refused for its credential or rights (issue 12: browsers hide the
 * HTTP answer to an upgrade), the status of the code of the `error` it got after
 * the upgrade, once checked that the upgrade was accepted and closed with that
 * code's close code.
 */
export function refusedStatus(outcome: Outcome): number {
  if (outcome.transport !== 'ws' || outcome.code === undefined || !REFUSED_AFTER_UPGRADE.has(outcome.code)) return outcome.status;
  const code = outcome.code as ErrorCode;
  assert.equal(outcome.status, 101, `${code}: the upgrade is accepted, then closed (${outcome.body})`);
  assert.equal(outcome.closeCode, closeCodeOf(code), `close code for ${code}`);
  return statusOf(code);
}

/** `topic=a&topic=b`, each encoded. */
export function topicQuery(...topics: string[]): string {
  return topics.map((topic) => `topic=${encodeURIComponent(topic)}`).join('&');
}

/** One HTTP answer, read in full. */
export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The parsed JSON body, or undefined. */
  json: any;
}

/** One plain HTTP request on a fresh connection, answered in full. */
export function httpRequest(url: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const all = { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) };
    const req = request(`${url}${path}`, { method, headers: all, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`no answer to ${method} ${path}`)));
    req.end(body);
  });
}

/** POST /publish with a JSON body and extra headers. */
export function postPublish(url: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return httpRequest(url, 'POST', '/publish', { 'content-type': 'application/json', ...headers }, JSON.stringify(body));
}

/** A tiny HTTP server on an ephemeral loopback port, for JWKS and authorization-hook endpoints. */
export interface TinyServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function startTinyServer(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<TinyServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handler(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A writable stream that keeps everything written to it, as a pino destination. */
export class MemoryStream extends Writable {
  readonly chunks: string[] = [];

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(String(chunk));
    callback();
  }

  get text(): string {
    return this.chunks.join('');
  }
}
