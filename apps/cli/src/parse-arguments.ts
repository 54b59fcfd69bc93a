import { InvalidArgumentError } from 'commander';
import { parseDuration } from '@mrw/contracts';

/** Collects a repeatable `--flag k=v` into a list. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const pairs = (items: readonly string[], flag: string): Array<[string, string]> =>
  items.map((item) => {
    const at = item.indexOf('=');
    if (at <= 0) throw new InvalidArgumentError(`${flag} takes key=value, got "${item}"`);
    return [item.slice(0, at), item.slice(at + 1)];
  });

/** A repeatable `--tag k=v`, checked as it is parsed. */
export const collectPair = (value: string, previous: string[] = []): string[] => {
  pairs([value], 'the option');
  return [...previous, value];
};

/** A repeatable `--metric k=v` with a numeric value, checked as it is parsed. */
export const collectMetric = (value: string, previous: string[] = []): string[] => {
  numberMap([value]);
  return [...previous, value];
};

/** `--tag k=v` repeated → `{k: v}`. */
export const stringMap = (items: readonly string[], flag = '--tag'): Record<string, string> => Object.fromEntries(pairs(items, flag));

/** `--metric k=v` repeated → `{k: number}`; a value that is not a finite number is a usage error. */
export const numberMap = (items: readonly string[], flag = '--metric'): Record<string, number> =>
  Object.fromEntries(
    pairs(items, flag).map(([key, raw]) => {
      const value = raw.trim() === '' ? Number.NaN : Number(raw);
      if (!Number.isFinite(value)) throw new InvalidArgumentError(`${flag} ${key}=${raw}: the value must be a number`);
      return [key, value];
    }),
  );

/** A `--limit`: a positive whole number. */
export const count = (raw: string): number => {
  if (!/^[1-9]\d{0,5}$/.test(raw)) throw new InvalidArgumentError(`"${raw}" is not a positive whole number`);
  return Number(raw);
};

/** A version number argument. */
export const versionNumber = (raw: string): number => {
  if (!/^[1-9]\d{0,8}$/.test(raw)) throw new InvalidArgumentError(`"${raw}" is not a version number (1, 2, …)`);
  return Number(raw);
};

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--timeout`: `90s`, `10m`, `1h30m`, `500ms`, a bare number of seconds, or ISO 8601 (`PT10M`). */
export const durationMs = (raw: string): number => {
  const text = raw.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (/^P/i.test(text)) {
    const iso = parseDuration(text.toUpperCase());
    if (iso !== undefined) return iso;
  }
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length > 0 && parts.map((p) => p[0]).join('') === text) {
    return parts.reduce((total, [, n, unit]) => total + Number(n) * (UNITS[unit as string] ?? 0), 0);
  }
  throw new InvalidArgumentError(`"${raw}" is not a duration such as 90s, 10m or 1h30m`);
};

/** A point in time for `asof`: anything Date can read, sent as ISO 8601 UTC. */
export const timestamp = (raw: string): string => {
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw new InvalidArgumentError(`"${raw}" is not a timestamp such as 2026-11-27T12:00:00Z`);
  return new Date(ms).toISOString();
};

/** Whether `register`'s argument names a URI for the registry to fetch rather than a local file. */
export const isSourceUri = (value: string): boolean => /^(artifacts|https?|file):\/\//i.test(value);
