import { readFileSync } from 'node:fs';
import { parseBridgeMapping } from '../sources/redis-bridge.js';

/**
 * How the command line turns what a person typed into the value an option takes.
 * These only convert notation ("25s" into 25000, "a,b" into a list): whether the
 * value is acceptable is the options schema's call. A string that is not in the
 * notation at all throws, naming the notation; a value that is not a string (a
 * config file holds JSON) is passed on unchanged for the schema to judge.
 */
export type Conversion = 'string' | 'number' | 'boolean' | 'duration' | 'size' | 'list' | 'bridges' | 'pem-file';

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Readonly<Record<string, number>> = { b: 1, kb: 1000, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };
const TRUE_WORDS = /^(true|1|yes|on)$/i;
const FALSE_WORDS = /^(false|0|no|off)$/i;
// Number() would also read "", "0x10" and "1e3"; a setting is written in decimal.
const DECIMAL = /^\s*-?\d+(?:\.\d+)?\s*$/;

/** Converts one raw value (a flag, an environment variable or a config-file value) by its conversion. */
export function convertValue(conversion: Conversion, raw: unknown): unknown {
  return CONVERSIONS[conversion](raw);
}

const CONVERSIONS: Readonly<Record<Conversion, (raw: unknown) => unknown>> = {
  string: (raw) => raw,
  number: (raw) => {
    if (typeof raw !== 'string') return raw;
    if (!DECIMAL.test(raw)) throw new Error('expected a number');
    return Number(raw);
  },
  boolean: (raw) => {
    if (typeof raw !== 'string') return raw;
    if (TRUE_WORDS.test(raw)) return true;
    if (FALSE_WORDS.test(raw)) return false;
    throw new Error('expected true or false (or yes/no, on/off, 1/0)');
  },
  duration: (raw) => withUnit(raw, DURATION_UNITS, 'ms', 'expected a duration such as 25s, 500ms or 1h'),
  size: (raw) => withUnit(raw, SIZE_UNITS, 'b', 'expected a size such as 65536, 64KiB or 1MiB'),
  list: (raw) => toList(raw),
  bridges: (raw) => toList(raw).map((item) => (typeof item === 'string' ? parseBridgeMapping(item) : item)),
  'pem-file': (raw) => {
    if (typeof raw !== 'string') return raw;
    if (raw === '') throw new Error('expected the path of a PEM file');
    try {
      return readFileSync(raw, 'utf8');
    } catch (error) {
      throw new Error(`cannot read the key file: ${(error as Error).message}`);
    }
  },
};

/**
 * A list from a comma-separated string, a repeated flag (each of which may hold
 * commas too) or a JSON array; items are trimmed and empty ones dropped.
 */
export function toList(raw: unknown): unknown[] {
  const items = Array.isArray(raw) ? (raw as unknown[]) : [raw];
  return items
    .flatMap((item) => (typeof item === 'string' ? item.split(',') : [item]))
    .map((item) => (typeof item === 'string' ? item.trim() : item))
    .filter((item) => item !== '');
}

function withUnit(raw: unknown, units: Readonly<Record<string, number>>, plain: string, message: string): unknown {
  if (typeof raw !== 'string') return raw;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(raw);
  const unit = match?.[2]?.toLowerCase() || plain;
  const factor = units[unit];
  if (match === null || factor === undefined) throw new Error(message);
  return Math.round(Number(match[1]) * factor);
}

/**
 * Writes a default the way a person would type it, for `--help` and the README
 * table: 3600000 ms as "1h", 65536 bytes as "64KiB", true as "on", nothing as "(none)".
 */
export function formatValue(conversion: Conversion, value: unknown): string {
  if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) return '(none)';
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'number' && value > 0 && conversion === 'duration') return withLargestUnit(value, DURATION_UNITS, 'ms');
  if (typeof value === 'number' && value > 0 && conversion === 'size') return withLargestUnit(value, { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }, '');
  return Array.isArray(value) ? value.join(',') : String(value);
}

function withLargestUnit(value: number, units: Readonly<Record<string, number>>, plain: string): string {
  let shown = `${value}${plain}`;
  for (const [unit, factor] of Object.entries(units)) if (value % factor === 0) shown = `${value / factor}${unit}`;
  return shown;
}
