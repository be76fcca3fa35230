// The app's JWT login: it mints short-lived HS256 tokens for a supervisor (15 minutes,
// as the team's) that both the hub (`--jwt-secret`) and the app's own API verify.
import { jwtVerify, SignJWT } from 'jose';
import { HttpError } from '../../shared/http.js';

export class TokenIssuer {
  readonly #key: Uint8Array;
  readonly #lifetimeSeconds: number;

  constructor(secret: string, lifetimeSeconds: number) {
    this.#key = new TextEncoder().encode(secret);
    this.#lifetimeSeconds = lifetimeSeconds;
  }

  /**
   * The token's rights cover every group topic; which groups a supervisor actually
   * gets is the authorization hook's answer, so a revoked supervision ends without
   * waiting for the token to expire.
   */
  mint(supervisorId: string): Promise<string> {
    return new SignJWT({ herald: { subscribe: ['groups/*'] } })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(supervisorId)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + this.#lifetimeSeconds)
      .sign(this.#key);
  }

  /** The supervisor id of a bearer token; 401 when it is missing, bad or expired. */
  async verify(authorization: string | undefined): Promise<string> {
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (token === undefined) throw new HttpError(401, 'a bearer token is required');
    try {
      const { payload } = await jwtVerify(token, this.#key, { algorithms: ['HS256'] });
      if (typeof payload.sub !== 'string') throw new Error('no sub');
      return payload.sub;
    } catch {
      throw new HttpError(401, 'the token is invalid or expired');
    }
  }
}
