import { HeraldError } from '@herald/protocol';

/** What the app's authorization hook is asked. */
export interface AuthorizeRequest {
  sub: string | undefined;
  claims: Record<string, unknown>;
  topics: string[];
  /**
   * Present (true) when a connection opens: `topics` are the ones it asked for
   * plus the token's `herald.topics` (maybe none), and an answer that allows may
   * name more topics to subscribe it to.
   */
  connect?: true;
}

/** A hook's full answer: whether `topics` are allowed and, at connect, more topics to subscribe. */
interface AuthorizeAnswer {
  allow: boolean;
  /** At connect, with `allow`: topic patterns to subscribe the connection to as well. */
  topics?: readonly string[];
}

/** An in-process hook: true (or `{allow: true}`) allows, anything else (or a rejection) refuses. */
export type AuthorizeFunction = (request: AuthorizeRequest) => boolean | AuthorizeAnswer | Promise<boolean | AuthorizeAnswer>;

/** An answer as the hub uses it: `topics` is empty unless the hook allowed and named some. */
interface HookAnswer {
  allow: boolean;
  topics: readonly string[];
}

/** Settings of {@link AuthorizeHook}. */
export interface AuthorizeHookSettings {
  /** In-process hook, for embedded hubs. */
  authorize?: AuthorizeFunction;
  /** URL the hub POSTs `{sub, claims, topics}` to; a 200 answer `{"allow": true}` allows (with `"topics"` at connect), anything else refuses. */
  url?: string;
  /** How long an answer may take, in milliseconds. Default 2,000. */
  timeoutMs?: number;
  /** How long answers are reused, in milliseconds. Default 5,000; 0 turns caching off. */
  cacheTtlMs?: number;
}

interface CacheEntry {
  answer: HookAnswer;
  until: number;
}

const MAX_CACHE_ENTRIES = 10_000;

/**
 * Asks the app about rights that live in its database. It is asked after the
 * token's patterns allowed a subscription, and can only narrow them: the token
 * says what a user may ever see (`groups/*`), the hook what they may see now (a
 * supervisor's active groups). Answers are cached briefly; a hook that errs or
 * does not answer in time refuses (fail closed) with `authorization_unavailable`,
 * so the client retries rather than gets data.
 */
export class AuthorizeHook {
  readonly #settings: AuthorizeHookSettings;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #timeoutMs: number;
  readonly #ttlMs: number;

  constructor(settings: AuthorizeHookSettings) {
    if (settings.authorize === undefined && settings.url === undefined) throw new TypeError('herald: AuthorizeHook needs authorize or url');
    this.#settings = settings;
    this.#timeoutMs = settings.timeoutMs ?? 2000;
    this.#ttlMs = settings.cacheTtlMs ?? 5000;
  }

  /** Throws `forbidden` or `authorization_unavailable` unless the hook allows every topic. */
  async check(request: AuthorizeRequest): Promise<void> {
    if (!(await this.ask(request)).allow) throw new HeraldError('forbidden', 'the authorization hook refused these topics');
  }

  /** The hook's answer (cached); throws `authorization_unavailable` when it has none. */
  async ask(request: AuthorizeRequest): Promise<HookAnswer> {
    const key = JSON.stringify([request.sub ?? null, [...request.topics].sort(), request.claims, request.connect === true]);
    const now = Date.now();
    const cached = this.#cache.get(key);
    if (cached !== undefined && cached.until > now) return cached.answer;
    const answer = await this.#ask(request);
    if (this.#ttlMs > 0) {
      if (this.#cache.size >= MAX_CACHE_ENTRIES) this.#cache.clear();
      this.#cache.set(key, { answer, until: now + this.#ttlMs });
    }
    return answer;
  }

  async #ask(request: AuthorizeRequest): Promise<HookAnswer> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    try {
      if (this.#settings.authorize !== undefined) {
        const answer = await Promise.race([
          Promise.resolve(this.#settings.authorize(request)),
          new Promise<never>((_, reject) => timeout.addEventListener('abort', () => reject(new Error('timed out')))),
        ]);
        return readAnswer(answer);
      }
      const response = await fetch(this.#settings.url!, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
        signal: timeout,
      });
      // A 5xx is the hook failing, not refusing: answered 503 and never cached.
      if (response.status >= 500) throw new Error(`it answered ${response.status}`);
      if (response.status !== 200) return REFUSED;
      return readAnswer(await response.json());
    } catch (error) {
      throw new HeraldError('authorization_unavailable', `the authorization hook did not answer: ${(error as Error).message}`);
    }
  }
}

const REFUSED: HookAnswer = { allow: false, topics: [] };

/** Reads a hook's answer: `true`, or an object whose `allow` is `true`, allows; `topics` counts only then, strings only. */
function readAnswer(answer: unknown): HookAnswer {
  if (answer === true) return { allow: true, topics: [] };
  if (typeof answer !== 'object' || answer === null || (answer as { allow?: unknown }).allow !== true) return REFUSED;
  const topics = (answer as { topics?: unknown }).topics;
  return { allow: true, topics: Array.isArray(topics) ? topics.filter((topic): topic is string => typeof topic === 'string') : [] };
}
