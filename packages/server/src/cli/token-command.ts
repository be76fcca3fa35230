import { isTopicPattern } from '@herald/protocol';
import type { Command } from 'commander';
import { SignJWT } from 'jose';
import { ConfigError } from './config-error.js';
import { convertValue, toList } from './convert.js';
import { collect } from './repeatable.js';

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
  const ttlMs = ttlOf(flags.ttl ?? '15m');
  const patterns = (list: string[]): string[] => {
    const values = toList(list) as string[];
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

function ttlOf(text: string): number {
  let ttlMs: unknown;
  try {
    ttlMs = convertValue('duration', text);
  } catch (error) {
    throw new ConfigError(`invalid --ttl: ${(error as Error).message}, got ${JSON.stringify(text)}`);
  }
  if (typeof ttlMs !== 'number' || ttlMs < 1000) throw new ConfigError('--ttl must be at least 1s');
  return ttlMs;
}

/** Adds `herald token` to the command line. */
export function registerTokenCommand(program: Command): void {
  program
    .command('token')
    .description('print a signed HS256 development token for a hub started with --jwt-secret')
    .option('--sub <subject>', 'the sub claim')
    .option('--subscribe <pattern>', 'topic pattern the token may subscribe to ({sub} and other claims expand); repeatable', collect)
    .option('--publish <pattern>', 'topic pattern the token may publish to; repeatable', collect)
    .option('--claim <name=value>', 'an extra claim, such as role=admin; repeatable', collect)
    .option('--ttl <duration>', 'lifetime, such as 15m or 1h (default 15m)')
    .option('--secret <secret>', 'the hub secret; env HERALD_JWT_SECRET')
    .option('--audience <aud>', 'the aud claim')
    .option('--issuer <iss>', 'the iss claim')
    .action(async (flags: TokenFlags) => {
      process.stdout.write(`${await mintToken(flags, process.env)}\n`);
    });
}
