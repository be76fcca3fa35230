import type { IncomingMessage } from 'node:http';

/** Where a credential came from; cookies are ambient, so they get CSRF checks. */
export type CredentialSource = 'header' | 'query' | 'cookie';

/** A bearer credential found on a request. */
export interface Credential {
  value: string;
  source: CredentialSource;
}

const MAX_CREDENTIAL_LENGTH = 8192;

/**
 * Finds the request's credential, in the documented order: `Authorization: Bearer`,
 * then the `token` query parameter (EventSource and browser WebSocket cannot set
 * headers), then the cookie.
 */
export function findCredential(req: IncomingMessage, url: URL, cookieName: string): Credential | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match) return limit({ value: match[1]!, source: 'header' });
  }
  const query = url.searchParams.get('token');
  if (query !== null && query !== '') return limit({ value: query, source: 'query' });
  const cookie = readCookie(req.headers.cookie, cookieName);
  if (cookie !== undefined && cookie !== '') return limit({ value: cookie, source: 'cookie' });
  return undefined;
}

function limit(credential: Credential): Credential | undefined {
  return credential.value.length <= MAX_CREDENTIAL_LENGTH ? credential : undefined;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The client's address; with `trustProxy`, the first X-Forwarded-For hop. */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return req.socket.remoteAddress ?? 'unknown';
}
