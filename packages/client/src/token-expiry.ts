/**
 * When a JWT expires, read from its `exp` claim without verifying it (the client
 * only uses it to refresh in time; the hub verifies). Undefined when the token is
 * not a JWT or has no numeric `exp`.
 */
export function tokenExpiry(token: string | undefined): number | undefined {
  const payload = token?.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    // atob accepts base64 without padding ("forgiving-base64"); JWTs use the URL alphabet.
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How long to wait before refreshing a token that expires at `expiresAt`: a minute
 * early, or half its remaining life for short-lived tokens, so that a slow
 * `getToken` or a client clock a little behind the hub's still refreshes in time.
 */
export function refreshDelay(expiresAt: number, now: number): number {
  const left = expiresAt - now;
  return Math.max(0, left - Math.min(60_000, left / 2));
}
