import { isTopicPattern, matchTopic } from '@herald/protocol';

// A claim value may fill a placeholder only if it is one plain topic segment:
// no '/', no '*', nothing that could widen the pattern it lands in.
const SEGMENT = /^[A-Za-z0-9\-_.~:@=+]+$/;

/**
 * Expands `{claim}` placeholders in granted patterns with the token's claims
 * (`user/{sub}`, `role/{role}`). A pattern whose placeholder names a missing
 * claim, or a value that is not one plain segment, is dropped: fail closed.
 */
function expandPatterns(patterns: unknown, claims: Record<string, unknown>): string[] {
  if (!Array.isArray(patterns)) return [];
  const expanded: string[] = [];
  for (const pattern of patterns) {
    if (typeof pattern !== 'string') continue;
    let broken = false;
    const result = pattern.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name: string) => {
      const value = claims[name];
      const text = typeof value === 'string' || typeof value === 'number' ? String(value) : '';
      if (!SEGMENT.test(text) || text === '.' || text === '..') broken = true;
      return text;
    });
    if (!broken && isTopicPattern(result)) expanded.push(result);
  }
  return expanded;
}

function heraldClaim(claims: Record<string, unknown>): Record<string, unknown> | undefined {
  const herald = claims['herald'];
  return typeof herald === 'object' && herald !== null ? (herald as Record<string, unknown>) : undefined;
}

/**
 * The topics a token subscribes every one of its connections to at connect: its
 * `herald.topics`, placeholders expanded like rights (`user_{sub}`, `role_{role}`);
 * one naming a missing or unsafe claim is dropped.
 */
export function tokenTopics(claims: Record<string, unknown>): string[] {
  return [...new Set(expandPatterns(heraldClaim(claims)?.['topics'], claims))];
}

/**
 * Whether every topic `pattern` can match is also matched by `grant`, both being
 * valid patterns. `user/*` does not cover `user/1/private`; `news/**` covers
 * `news/*` and `news`; a requested `**` is covered only by a granted `**` at the
 * same depth or above.
 */
export function covers(grant: string, pattern: string): boolean {
  return coversFrom(grant.split('/'), pattern.split('/'), 0, 0);
}

function coversFrom(g: string[], p: string[], i: number, j: number): boolean {
  if (i === g.length) return j === p.length;
  const granted = g[i]!;
  if (granted === '**') return true;
  if (j === p.length) return false;
  const requested = p[j]!;
  // A requested ** reaches any depth; only a granted ** (handled above) does too.
  if (requested === '**') return false;
  if (granted === '*') return coversFrom(g, p, i + 1, j + 1);
  return requested !== '*' && granted === requested && coversFrom(g, p, i + 1, j + 1);
}

/** What a principal may subscribe to and publish to. */
export class Rights {
  /** Everything: for hubs without authentication and for publish keys (publish only). */
  static readonly ALL = new Rights(['**'], ['**']);
  /** Nothing beyond public topics. */
  static readonly NONE = new Rights([], []);

  readonly subscribe: readonly string[];
  readonly publish: readonly string[];

  constructor(subscribe: readonly string[], publish: readonly string[]) {
    this.subscribe = subscribe;
    this.publish = publish;
  }

  /**
   * Rights from a token's `herald` claim, placeholders expanded. The topics the
   * token subscribes its connections to (`herald.topics`) are granted too, so a
   * token never has to repeat them under `subscribe`.
   */
  static fromClaims(claims: Record<string, unknown>): Rights {
    const grant = heraldClaim(claims);
    if (grant === undefined) return Rights.NONE;
    return new Rights([...expandPatterns(grant['subscribe'], claims), ...tokenTopics(claims)], expandPatterns(grant['publish'], claims));
  }

  /** A subscription is allowed when one granted pattern covers it entirely. */
  canSubscribe(pattern: string): boolean {
    return this.subscribe.some((grant) => covers(grant, pattern));
  }

  /** A publish is allowed when a granted pattern matches its topic. */
  canPublish(topic: string): boolean {
    return this.publish.some((grant) => matchTopic(grant, topic));
  }
}
