import { ProblemException } from '@mrw/platform';
import { MODEL_NAME_PATTERN } from '@mrw/contracts';

const invalid = (field: string, message: string): ProblemException =>
  new ProblemException('VALIDATION_FAILED', `${field}: ${message}`, { errors: [{ field, message }] });

/** A version path segment: a positive integer. */
export const parseVersion = (raw: string): number => {
  if (!/^[1-9][0-9]{0,8}$/.test(raw)) throw invalid('version', `${raw} is not a version number (1, 2, 3…)`);
  return Number(raw);
};

/** `?asOf=` as a canonical ISO timestamp, or undefined. */
export const parseAsOf = (raw: string | undefined): string | undefined => {
  if (raw === undefined || raw === '') return undefined;
  const ms = Date.parse(raw);
  if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}/.test(raw)) {
    throw invalid('asOf', `${raw} is not an ISO 8601 timestamp such as 2026-11-27T12:00:00Z`);
  }
  return new Date(ms).toISOString();
};

export const MODEL_NAME_MESSAGE = 'must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';

/** A model name path segment. */
export const parseModelName = (raw: string): string => {
  if (!MODEL_NAME_PATTERN.test(raw)) throw invalid('name', `${raw} ${MODEL_NAME_MESSAGE}`);
  return raw;
};
