import { readFileSync } from 'node:fs';
import { HubOptionsError, hubOptionsSchema, resolveHubOptions, type HubOptions } from '../options.js';
import { ConfigError } from './config-error.js';
import { convertValue } from './convert.js';
import { serveOptionsSchema, type ResolvedServeOptions } from './serve-options.js';
import { SERVE_DEFAULTS, SETTINGS, type ServeConfig, type Setting } from './settings.js';

/** A value as it was given, and where: the flag, the variable or the file key that error messages name. */
interface GivenValue {
  raw: unknown;
  source: string;
}

// The hub's and the serve command's options, checked together so that every bad one is reported at once.
const settingsSchema = hubOptionsSchema.extend(serveOptionsSchema.shape);

/**
 * Merges settings: flags over environment variables over the config file over
 * defaults. Each value is converted by its row (durations, sizes, lists), then
 * checked by the options schema, then by the rules between options. Every bad
 * value is reported in one ConfigError naming the setting, such as `invalid
 * --heartbeat: expected a duration such as 25s, 500ms or 1h, got "soon" (the
 * setting heartbeatInterval: flag --heartbeat, env HERALD_HEARTBEAT, config key "heartbeatInterval")`.
 */
export function loadServeConfig(flags: Record<string, unknown>, env: NodeJS.ProcessEnv, configFile?: string): ServeConfig {
  const file = configFile === undefined ? {} : readConfigFile(configFile);
  const known = new Set<string>(SETTINGS.map((s) => s.key));
  for (const key of Object.keys(file)) {
    if (!known.has(key)) throw new ConfigError(`unknown setting "${key}" in ${configFile}; known: ${[...known].join(', ')}`);
  }
  const given = new Map<Setting, GivenValue>();
  for (const setting of SETTINGS) {
    const value = pickValue(setting, flags, env, file, configFile);
    if (value !== undefined) given.set(setting, value);
  }
  const { values, problems } = convertAll(given);
  problems.push(...schemaProblems(values, given));
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  const config = { ...SERVE_DEFAULTS, ...values } as ServeConfig;
  checkRulesBetweenOptions(config);
  return config;
}

/** The value of the highest-precedence place that sets it: an empty environment variable does not count. */
function pickValue(
  setting: Setting,
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  file: Record<string, unknown>,
  configFile: string | undefined,
): GivenValue | undefined {
  const flagValue = flags[camel(setting.flag)];
  if (flagValue !== undefined) return { raw: flagValue, source: `--${setting.flag}` };
  const envValue = env[setting.env];
  if (envValue !== undefined && envValue !== '') return { raw: envValue, source: setting.env };
  if (file[setting.key] !== undefined) return { raw: file[setting.key], source: `"${setting.key}" in ${configFile}` };
  return undefined;
}

function convertAll(given: ReadonlyMap<Setting, GivenValue>): { values: Record<string, unknown>; problems: string[] } {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [setting, value] of given) {
    try {
      values[setting.key] = convertValue(setting.convert, value.raw);
    } catch (error) {
      problems.push(badValue(setting, value, (error as Error).message));
    }
  }
  return { values, problems };
}

function schemaProblems(values: Record<string, unknown>, given: ReadonlyMap<Setting, GivenValue>): string[] {
  const result = settingsSchema.safeParse(values);
  if (result.success) return [];
  return result.error.issues.map((issue) => {
    // A list item's issue has the path [key, index]; the setting is the key.
    const setting = SETTINGS.find((s) => s.key === issue.path[0]);
    const value = setting === undefined ? undefined : given.get(setting);
    if (setting === undefined || value === undefined) return issue.message;
    return badValue(setting, value, issue.message);
  });
}

function badValue(setting: Setting, value: GivenValue, problem: string): string {
  const shown = setting.secret === true ? '(value not shown: it is a secret)' : JSON.stringify(value.raw);
  return `invalid ${value.source}: ${problem}, got ${shown} (the setting ${setting.key}: flag --${setting.flag}, env ${setting.env}, config key "${setting.key}")`;
}

// Rules that involve two hub options (only one key source) live in resolveHubOptions;
// here they are only reported in the command's words.
function checkRulesBetweenOptions(config: ServeConfig): void {
  try {
    resolveHubOptions(hubOptionsOf(config));
  } catch (error) {
    if (!(error instanceof HubOptionsError)) throw error;
    const lines = error.issues.map(({ option, problem }) => {
      const setting = SETTINGS.find((s) => s.key === option);
      return setting === undefined ? problem : `invalid --${setting.flag} (env ${setting.env}, config key "${setting.key}"): ${problem}`;
    });
    throw new ConfigError(lines.join('\n'));
  }
}

// The serve options' names, from their schema, so that no list of them is written twice.
const SERVE_OPTION_NAMES: ReadonlySet<string> = new Set(Object.keys(serveOptionsSchema.shape));

/** The hub options part of a serve config. */
export function hubOptionsOf(config: ServeConfig): HubOptions {
  return Object.fromEntries(Object.entries(config).filter(([name]) => !SERVE_OPTION_NAMES.has(name))) as HubOptions;
}

/** The serve options part of a serve config. */
export function serveOptionsOf(config: ServeConfig): ResolvedServeOptions {
  return Object.fromEntries(Object.entries(config).filter(([name]) => SERVE_OPTION_NAMES.has(name))) as unknown as ResolvedServeOptions;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a JSON object of settings`);
  }
  return parsed as Record<string, unknown>;
}

/** Commander's name for a flag's value: `--max-event-size` is `maxEventSize`. */
function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
