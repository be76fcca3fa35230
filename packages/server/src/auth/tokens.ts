import { createPublicKey, type KeyObject } from 'node:crypto';
import { HeraldError } from '@herald/protocol';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

/** How tokens are checked. Exactly one of secret, publicKey and jwksUrl. */
export interface TokenSettings {
  /** HMAC secret (HS256 by default). */
  secret?: string;
  /** PEM of an RSA, EC or Ed25519 public key. */
  publicKey?: string;
  /** URL of a JSON Web Key Set; fetched, cached, and fetched again for an unknown `kid`. */
  jwksUrl?: string;
  /** Allowed `alg` values. Default: HS256 for a secret, the key's own algorithm for a PEM, RS256/ES256/EdDSA for JWKS. */
  algorithms?: readonly string[];
  audience?: string;
  issuer?: string;
  /** Clock skew tolerated for `exp` and `nbf`, in milliseconds. Default 5,000. */
  clockSkewMs?: number;
}

/** A verified token. */
export interface VerifiedToken {
  claims: JWTPayload & Record<string, unknown>;
  /** When the connection must end, in milliseconds since the epoch (exp plus skew), or undefined without `exp`. */
  expiresAt: number | undefined;
}

const HMAC = ['HS256', 'HS384', 'HS512'];

function algorithmsForKey(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512'];
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      return curve === 'secp384r1' ? ['ES384'] : curve === 'secp521r1' ? ['ES512'] : ['ES256'];
    }
    case 'ed25519':
      return ['EdDSA'];
    default:
      throw new TypeError(`herald: unsupported public key type ${String(key.asymmetricKeyType)}`);
  }
}

/**
 * Verifies JWTs with jose against one configured key source and an explicit
 * algorithm allowlist, so `alg: none` and HMAC-with-a-public-key confusion are
 * refused by construction.
 */
export class TokenVerifier {
  readonly #key: Uint8Array | KeyObject | JWTVerifyGetKey;
  readonly #algorithms: string[];
  readonly #audience: string | undefined;
  readonly #issuer: string | undefined;
  readonly clockSkewMs: number;

  constructor(settings: TokenSettings) {
    const sources = [settings.secret, settings.publicKey, settings.jwksUrl].filter((s) => s !== undefined && s !== '');
    if (sources.length !== 1) throw new TypeError('herald: configure exactly one of jwtSecret, jwtPublicKey and jwksUrl');
    this.clockSkewMs = settings.clockSkewMs ?? 5000;
    this.#audience = settings.audience;
    this.#issuer = settings.issuer;
    let defaults: string[];
    if (settings.secret !== undefined && settings.secret !== '') {
      if (settings.secret.length < 32) throw new TypeError('herald: jwtSecret must be at least 32 characters (HS256 needs 256 bits)');
      this.#key = new TextEncoder().encode(settings.secret);
      defaults = ['HS256'];
    } else if (settings.publicKey !== undefined && settings.publicKey !== '') {
      const key = createPublicKey(settings.publicKey);
      this.#key = key;
      defaults = algorithmsForKey(key);
    } else {
      this.#key = createRemoteJWKSet(new URL(settings.jwksUrl!), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000, timeoutDuration: 5000 });
      defaults = ['RS256', 'ES256', 'EdDSA'];
    }
    this.#algorithms = [...(settings.algorithms ?? defaults)];
    const hmacKey = this.#key instanceof Uint8Array;
    for (const alg of this.#algorithms) {
      if (alg.toLowerCase() === 'none') throw new TypeError('herald: the algorithm "none" is never allowed');
      if (HMAC.includes(alg) !== hmacKey) throw new TypeError(`herald: algorithm ${alg} does not fit the configured key`);
    }
  }

  /** Verifies a token; throws `token_expired` for an expired one and `unauthorized` for anything else wrong. */
  async verify(token: string): Promise<VerifiedToken> {
    try {
      const options = {
        algorithms: this.#algorithms,
        clockTolerance: Math.ceil(this.clockSkewMs / 1000),
        // A token that never expires would outlive any change of rights.
        requiredClaims: ['exp'],
        ...(this.#audience === undefined ? {} : { audience: this.#audience }),
        ...(this.#issuer === undefined ? {} : { issuer: this.#issuer }),
      };
      const { payload } = typeof this.#key === 'function' ? await jwtVerify(token, this.#key, options) : await jwtVerify(token, this.#key, options);
      const expiresAt = typeof payload.exp === 'number' ? payload.exp * 1000 + this.clockSkewMs : undefined;
      return { claims: payload as VerifiedToken['claims'], expiresAt };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new HeraldError('token_expired', 'the token has expired');
      // The key set could not be fetched: the hub's problem, not the token's. A 401
      // would make clients throw away a good token; 503 tells them to retry.
      if (error instanceof joseErrors.JWKSTimeout || (typeof this.#key === 'function' && !(error instanceof joseErrors.JOSEError))) {
        throw new HeraldError('authorization_unavailable', 'the JSON Web Key Set could not be fetched');
      }
      // jose's message says which check failed (signature, audience, nbf...) and never echoes the token.
      const reason = error instanceof joseErrors.JOSEError ? error.message : 'the token could not be verified';
      throw new HeraldError('unauthorized', `invalid token: ${reason}`);
    }
  }
}
