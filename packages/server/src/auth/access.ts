import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HeraldError, isTopicPattern } from '@herald/protocol';
import { AuthorizeHook, type AuthorizeFunction } from './authorize-hook.js';
import { findCredential, type CredentialSource } from './credentials.js';
import { covers, Rights, tokenTopics } from './rights.js';
import { TokenVerifier } from './tokens.js';

/** Who is on the other end of a request or connection, and what they may do. */
export interface Principal {
  /** `open`: the hub has no authentication configured, so everything is allowed. */
  kind: 'open' | 'anonymous' | 'token' | 'key';
  sub: string | undefined;
  claims: Record<string, unknown>;
  rights: Rights;
  /** When a token-authenticated connection must end (exp plus skew), in ms since the epoch. */
  expiresAt: number | undefined;
  /** Where the credential came from; cookie credentials need an allowed Origin. */
  source: CredentialSource | undefined;
  /** Identity for publish rate limits. */
  rateKey: string;
}

/**
 * A principal without a token. Written out field by field: an object spread
 * followed by more keys (`{ ...base, kind }`) takes V8's slow clone path, about
 * 2 µs per request, measured on the publish path.
 */
function untokened(kind: 'open' | 'anonymous' | 'key', rights: Rights, source: CredentialSource | undefined, rateKey: string): Principal {
  return { kind, sub: undefined, claims: {}, rights, expiresAt: undefined, source, rateKey };
}

/** The access settings of a hub (the auth part of HubOptions). */
export interface AccessSettings {
  jwtSecret?: string | undefined;
  jwtPublicKey?: string | undefined;
  jwksUrl?: string | undefined;
  jwtAlgorithms?: readonly string[] | undefined;
  jwtAudience?: string | undefined;
  jwtIssuer?: string | undefined;
  jwtClockSkew: number;
  tokenCookie: string;
  publicTopics: readonly string[];
  publishKeys: readonly string[];
  authorize?: AuthorizeFunction | undefined;
  authorizeUrl?: string | undefined;
  authorizeTimeout: number;
  authorizeCacheTtl: number;
  allowedOrigins: readonly string[];
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Which verbs need a credential under these settings; neither means the hub is open. */
export interface Authentication {
  /** Subscribing needs a token (public topics excepted): a JWT key is configured. */
  subscribe: boolean;
  /** Publishing needs a token with publish rights or a publish key. */
  publish: boolean;
}

/** Which verbs need a credential under `settings` (the CLI reads it to pick the default listen address). */
export function authenticationOf(settings: Pick<AccessSettings, 'jwtSecret' | 'jwtPublicKey' | 'jwksUrl' | 'publishKeys'>): Authentication {
  const jwt = [settings.jwtSecret, settings.jwtPublicKey, settings.jwksUrl].some((v) => v !== undefined && v !== '');
  return { subscribe: jwt, publish: jwt || settings.publishKeys.length > 0 };
}

/** A refreshed principal and the held patterns it no longer allows. */
export interface Reauthorization {
  principal: Principal;
  revoked: string[];
}

/**
 * Decides who a request is and what it may do. Subscriptions need a token when a
 * JWT key is configured (public topics excepted); publishing needs a token with
 * publish rights or a publish key when either is configured. With neither, the hub
 * is open, which is why it then listens on loopback unless told otherwise.
 */
export class Access {
  readonly #verifier: TokenVerifier | undefined;
  readonly subscribeAuth: boolean;
  readonly publishAuth: boolean;
  readonly #settings: AccessSettings;
  readonly #keys: Buffer[];
  readonly #hook: AuthorizeHook | undefined;

  constructor(settings: AccessSettings) {
    this.#settings = settings;
    const { subscribe: jwt, publish } = authenticationOf(settings);
    this.#verifier = jwt
      ? new TokenVerifier({
          ...(settings.jwtSecret ? { secret: settings.jwtSecret } : {}),
          ...(settings.jwtPublicKey ? { publicKey: settings.jwtPublicKey } : {}),
          ...(settings.jwksUrl ? { jwksUrl: settings.jwksUrl } : {}),
          ...(settings.jwtAlgorithms ? { algorithms: settings.jwtAlgorithms } : {}),
          ...(settings.jwtAudience ? { audience: settings.jwtAudience } : {}),
          ...(settings.jwtIssuer ? { issuer: settings.jwtIssuer } : {}),
          clockSkewMs: settings.jwtClockSkew,
        })
      : undefined;
    if (!jwt && settings.publicTopics.length > 0) {
      throw new TypeError('herald: publicTopics needs a JWT key (jwtSecret, jwtPublicKey or jwksUrl): without one every topic is public already');
    }
    if (!jwt && (settings.authorize !== undefined || settings.authorizeUrl !== undefined)) {
      throw new TypeError('herald: an authorize hook needs a JWT key (jwtSecret, jwtPublicKey or jwksUrl) to know who is asking');
    }
    this.subscribeAuth = jwt;
    this.publishAuth = publish;
    // Compared as digests so every comparison takes the same time whatever the key length.
    this.#keys = settings.publishKeys.map(digest);
    this.#hook =
      settings.authorize !== undefined || settings.authorizeUrl !== undefined
        ? new AuthorizeHook({
            ...(settings.authorize ? { authorize: settings.authorize } : {}),
            ...(settings.authorizeUrl ? { url: settings.authorizeUrl } : {}),
            timeoutMs: settings.authorizeTimeout,
            cacheTtlMs: settings.authorizeCacheTtl,
          })
        : undefined;
  }

  /** Where the request's credential comes from, without verifying it (undefined without one). */
  credentialSource(req: IncomingMessage, url: URL): CredentialSource | undefined {
    return findCredential(req, url, this.#settings.tokenCookie)?.source;
  }

  /** Identifies a request. Throws `unauthorized` or `token_expired` for a credential that does not verify. */
  async identify(req: IncomingMessage, url: URL, address: string): Promise<Principal> {
    const credential = findCredential(req, url, this.#settings.tokenCookie);
    const byAddress = `ip:${address}`;
    if (!this.subscribeAuth && !this.publishAuth) return untokened('open', Rights.ALL, credential?.source, byAddress);
    if (credential === undefined) return untokened('anonymous', Rights.NONE, undefined, byAddress);
    const keyIndex = this.#keyIndex(credential.value);
    if (keyIndex >= 0) return untokened('key', new Rights([], ['**']), credential.source, `key:${keyIndex}`);
    // Not a key, and no tokens on this hub: treat it as no credential, so a stray
    // cookie or query token cannot break subscriptions that need none.
    if (this.#verifier === undefined) return untokened('anonymous', Rights.NONE, undefined, byAddress);
    const { claims, expiresAt } = await this.#verifier.verify(credential.value);
    const sub = typeof claims.sub === 'string' ? claims.sub : undefined;
    return {
      kind: 'token',
      sub,
      claims,
      rights: Rights.fromClaims(claims),
      expiresAt,
      source: credential.source,
      rateKey: sub === undefined ? `ip:${address}` : `sub:${sub}`,
    };
  }

  /** Verifies a token given on a live connection (WebSocket `refresh`) and returns the principal it grants. */
  async refresh(previous: Principal, token: string): Promise<Principal> {
    if (this.#verifier === undefined) throw new HeraldError('invalid_request', 'this hub does not use tokens');
    const { claims, expiresAt } = await this.#verifier.verify(token);
    const sub = typeof claims.sub === 'string' ? claims.sub : undefined;
    if (previous.kind === 'token' && sub !== previous.sub) {
      throw new HeraldError('forbidden', 'a refreshed token must be for the same subject');
    }
    return {
      ...previous,
      kind: 'token',
      sub,
      claims,
      rights: Rights.fromClaims(claims),
      expiresAt,
      rateKey: sub === undefined ? previous.rateKey : `sub:${sub}`,
    };
  }

  /**
   * Verifies a fresh token for a live connection holding `held` and says which of
   * those patterns the new principal (or the authorization hook) no longer allows.
   */
  async reauthorize(previous: Principal, token: string, held: readonly string[]): Promise<Reauthorization> {
    const principal = await this.refresh(previous, token);
    return { principal, revoked: await this.revokedPatterns(principal, held) };
  }

  /**
   * The held patterns `principal` may no longer subscribe to: those its rights do
   * not cover, then those the authorization hook refuses. The hook is asked once
   * for the whole guarded set; only when it refuses is it asked for each pattern
   * alone, so one revoked group ends that subscription and not the others. Public
   * topics never depend on it. Throws `authorization_unavailable` when the hook
   * does not answer (nothing is revoked then).
   */
  async revokedPatterns(principal: Principal, held: readonly string[]): Promise<string[]> {
    const revoked = this.refusedPatterns(principal, held);
    const hook = this.#hook;
    if (hook === undefined || principal.kind !== 'token') return revoked;
    const guarded = held.filter((topic) => !revoked.includes(topic) && !this.isPublic(topic));
    if (guarded.length === 0) return revoked;
    const ask = (topics: string[]) => hook.ask({ sub: principal.sub, claims: principal.claims, topics });
    if ((await ask(guarded)).allow) return revoked;
    if (guarded.length === 1) return [...revoked, ...guarded];
    const answers = await Promise.all(guarded.map((topic) => ask([topic])));
    return [...revoked, ...guarded.filter((_, i) => !answers[i]!.allow)];
  }

  /**
   * The patterns a connection opening with `requested` subscribes to: those, plus
   * the ones the server chooses (the token's `herald.topics`, then the topics the
   * authorization hook names at connect). Throws like {@link checkSubscribe} when
   * a requested or token-chosen pattern is not allowed: the hook is asked once, at
   * connect, for both (with none, its refusal or silence refuses nothing). A topic the hook
   * names but the token's rights do not cover is dropped: the hook narrows rights,
   * it never widens them.
   */
  async connectTopics(principal: Principal, requested: readonly string[]): Promise<string[]> {
    const chosen = principal.kind === 'token' ? tokenTopics(principal.claims) : [];
    const asked = [...new Set([...requested, ...chosen])];
    this.#throwIfRefused(principal, this.refusedPatterns(principal, requested));
    if (this.#hook === undefined || principal.kind !== 'token') return asked;
    const guarded = asked.filter((pattern) => !this.isPublic(pattern));
    // With nothing guarded asked, the hook is asked only for topics it may name: its
    // refusal, or its silence, refuses nothing (a hook outage must not refuse
    // connections that asked for no guarded topic).
    const answer = await this.#hook.ask({ sub: principal.sub, claims: principal.claims, topics: guarded, connect: true }).catch((error: unknown) => {
      if (guarded.length > 0) throw error;
      return undefined;
    });
    if (answer === undefined) return asked;
    if (!answer.allow) {
      if (guarded.length > 0) throw new HeraldError('forbidden', 'the authorization hook refused these topics');
      return asked;
    }
    const named = answer.topics.filter((topic) => isTopicPattern(topic) && (this.isPublic(topic) || principal.rights.canSubscribe(topic)));
    return [...new Set([...asked, ...named])];
  }

  /** The subset of `patterns` a principal may not subscribe to (public topics and rights considered). */
  refusedPatterns(principal: Principal, patterns: readonly string[]): string[] {
    if (principal.kind === 'open' || !this.subscribeAuth) return [];
    return patterns.filter((pattern) => !this.isPublic(pattern) && !principal.rights.canSubscribe(pattern));
  }

  /**
   * Throws unless the principal may subscribe to every pattern: `unauthorized`
   * for an anonymous client asking for a non-public topic, `forbidden` for a token
   * that does not cover one, or the hook's refusal.
   */
  async checkSubscribe(principal: Principal, patterns: readonly string[]): Promise<void> {
    this.#throwIfRefused(principal, this.refusedPatterns(principal, patterns));
    if (this.#hook === undefined || principal.kind !== 'token') return;
    const guarded = patterns.filter((pattern) => !this.isPublic(pattern));
    if (guarded.length > 0) await this.#hook.check({ sub: principal.sub, claims: principal.claims, topics: guarded });
  }

  // `unauthorized` for a caller without a token, `forbidden` for a token: some patterns are not granted.
  #throwIfRefused(principal: Principal, refused: readonly string[]): void {
    if (refused.length === 0) return;
    const list = refused.slice(0, 3).join(', ');
    if (principal.kind === 'anonymous' || principal.kind === 'key') throw new HeraldError('unauthorized', `a token is required for ${list}`);
    throw new HeraldError('forbidden', `the token does not grant ${list}`);
  }

  /** Throws `unauthorized` or `forbidden` unless the principal may publish to every topic. */
  checkPublish(principal: Principal, topics: readonly string[]): void {
    if (!this.publishAuth || principal.kind === 'open') return;
    if (principal.kind === 'anonymous') throw new HeraldError('unauthorized', 'publishing needs a publish key or a token with publish rights');
    const refused = topics.find((topic) => !principal.rights.canPublish(topic));
    if (refused !== undefined) throw new HeraldError('forbidden', `the credential does not grant publishing to ${refused}`);
  }

  /**
   * Whether a browser Origin may use the hub: listed (or `*` listed), or the same
   * origin as the hub itself. Requests without Origin are not from a browser page.
   */
  originAllowed(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined) return true;
    const listed = this.#settings.allowedOrigins;
    if (listed.includes(origin) || listed.includes('*')) return true;
    try {
      return host !== undefined && new URL(origin).host === host;
    } catch {
      return false;
    }
  }

  /**
   * A cookie rides along on requests any page makes, so a request authenticated by
   * one must come from an allowed Origin (CSRF, cross-site WebSocket hijacking).
   */
  cookieOriginAllowed(principal: Pick<Principal, 'source' | 'kind'>, origin: string | undefined, host: string | undefined): boolean {
    if (principal.source !== 'cookie' || principal.kind === 'open') return true;
    return origin !== undefined && this.originAllowed(origin, host);
  }

  /** Whether a pattern is covered by a public pattern. */
  isPublic(pattern: string): boolean {
    return this.#settings.publicTopics.some((grant) => covers(grant, pattern));
  }

  /** Whether any origin allowlist was configured. */
  get hasOriginAllowlist(): boolean {
    return this.#settings.allowedOrigins.length > 0;
  }

  /** CORS answer headers for an Origin: explicit listing gets credentials, `*` does not. */
  corsHeaders(origin: string | undefined): Record<string, string> | undefined {
    if (origin === undefined) return undefined;
    const listed = this.#settings.allowedOrigins;
    if (listed.includes(origin)) {
      return { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true', Vary: 'Origin' };
    }
    if (listed.includes('*')) return { 'Access-Control-Allow-Origin': '*', Vary: 'Origin' };
    return undefined;
  }

  #keyIndex(value: string): number {
    const candidate = digest(value);
    let found = -1;
    this.#keys.forEach((key, index) => {
      if (timingSafeEqual(key, candidate)) found = index;
    });
    return found;
  }
}
