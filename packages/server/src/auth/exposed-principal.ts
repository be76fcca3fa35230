import type { ConnectedPrincipal } from '@herald/protocol';
import type { Principal } from './access.js';

/**
 * The principal as `connected` names it: a token's `sub` and the claims the
 * operator chose to expose (`exposeClaims`), so a page can say who it is
 * connected as without decoding its token. Nothing for connections without a
 * token. Only listed claims leave the hub: a token may carry more than its
 * holder's page should see echoed back (an email, internal ids).
 */
export function exposedPrincipal(principal: Principal, exposeClaims: readonly string[]): ConnectedPrincipal | undefined {
  if (principal.kind !== 'token') return undefined;
  const claims: Record<string, unknown> = {};
  for (const name of exposeClaims) {
    if (Object.hasOwn(principal.claims, name)) claims[name] = principal.claims[name];
  }
  return principal.sub === undefined ? { claims } : { sub: principal.sub, claims };
}
