import { isTopicPattern } from '@herald/protocol';
import { SignJWT } from 'jose';
import { ConfigError, parseValue } from './config.js';

/** Flags of `herald token`. */
export interface TokenFlags {
  sub?: string;
  subscribe?: string[];
  publish?: string[];
  claim?: string[];
  ttl?: string;
  secret?: string;
  audience?: string;
  issuer?: string;
}

/**
 * Signs an HS256 development token with the hub's secret: `sub`, an `exp` from
 * `--ttl`, and the `herald` claim with subscribe and publish patterns.
 */
export async function mintToken(flags: TokenFlags, env: NodeJS.ProcessEnv): Promise<string> {
  const secret = flags.secret ?? env['HERALD_JWT_SECRET'];
  if (secret === undefined || secret.length < 32) {
    throw new ConfigError('herald token needs the hub secret (32+ characters) in --secret or HERALD_JWT_SECRET');
  }
  const ttlMs = parseValue('duration', flags.ttl ?? '15m') as number;
  if (ttlMs < 1000) throw new ConfigError('--ttl must be at least 1s');
  const patterns = (list: string[] | undefined): string[] => {
    const values = parseValue('list', list ?? []) as string[];
    // Placeholders such as {sub} are filled from claims when the hub reads the token.
    const bad = values.find((value) => !isTopicPattern(value.replace(/\{[A-Za-z0-9_]+\}/g, 'x')));
    if (bad !== undefined) throw new ConfigError(`${JSON.stringify(bad)} is not a topic pattern`);
    return values;
  };
  const claims: Record<string, unknown> = {};
  for (const pair of flags.claim ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--claim takes name=value, got ${JSON.stringify(pair)}`);
    claims[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const herald: Record<string, string[]> = {};
  if (flags.subscribe !== undefined) herald['subscribe'] = patterns(flags.subscribe);
  if (flags.publish !== undefined) herald['publish'] = patterns(flags.publish);
  let jwt = new SignJWT({ ...claims, herald })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(Math.floor((Date.now() + ttlMs) / 1000));
  if (flags.sub !== undefined) jwt = jwt.setSubject(flags.sub);
  if (flags.audience !== undefined) jwt = jwt.setAudience(flags.audience);
  if (flags.issuer !== undefined) jwt = jwt.setIssuer(flags.issuer);
  return jwt.sign(new TextEncoder().encode(secret));
}
