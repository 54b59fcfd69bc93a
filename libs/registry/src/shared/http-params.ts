import { applyDecorators } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { ProblemException } from '@mrw/platform';
import { MODEL_NAME_PATTERN } from '@mrw/contracts';
import { TAG_KEY_PATTERN } from '@mrw/domain';

/** The largest page offset a list accepts: far beyond any catalog, far below SQLite's 64-bit integers. */
export const MAX_OFFSET = 1_000_000_000;

/** Version numbers are 1…999,999,999 (nine digits), in paths and bodies alike. */
export const MAX_VERSION = 999_999_999;

/** A tag filter: a tag key as tags are written (`key`), optionally with a value (`key:value`). */
export const TAG_FILTER = /^[A-Za-z0-9_.\-/]{1,250}(:[^\u0000-\u001f\u007f]{0,5000})?$/;

/** The shape `asOf`, `since` and `until` must have before Date.parse sees them. */
export const TIMESTAMP = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)?)?$/;

const invalid = (field: string, message: string): ProblemException =>
  new ProblemException('VALIDATION_FAILED', `${field}: ${message}`, { errors: [{ field, message }] });

/** A version path segment: a positive integer. */
export const parseVersion = (raw: string): number => {
  if (!/^[1-9][0-9]{0,8}$/.test(raw)) throw invalid('version', `${raw} is not a version number (1, 2, 3…)`);
  return Number(raw);
};

/** `?asOf=` (or `since`, `until`) as a canonical ISO timestamp, or undefined. */
export const parseAsOf = (raw: string | undefined, field = 'asOf'): string | undefined => {
  if (raw === undefined || raw === '') return undefined;
  const ms = TIMESTAMP.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw invalid(field, `${raw} is not an ISO 8601 timestamp such as 2026-11-27T12:00:00Z`);
  }
  return new Date(ms).toISOString();
};

export const MODEL_NAME_MESSAGE = 'must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';

/** A model name path segment. */
export const parseModelName = (raw: string): string => {
  if (!MODEL_NAME_PATTERN.test(raw)) throw invalid('name', `${raw} ${MODEL_NAME_MESSAGE}`);
  return raw;
};

/** OpenAPI schemas of the path parameters the registry's routes share (validated by the parse functions above). */
export const ApiPathParams = {
  name: () => ApiParam({ name: 'name', schema: { type: 'string', pattern: MODEL_NAME_PATTERN.source, maxLength: 128 } }),
  version: () => ApiParam({ name: 'version', schema: { type: 'integer', minimum: 1, maximum: MAX_VERSION } }),
  modelVersion: () => applyDecorators(ApiPathParams.name(), ApiPathParams.version()),
};

/** A tag key from the path (`…/tags/{key}`), or 400 VALIDATION_FAILED. */
export const parseTagKey = (key: string): string => {
  if (!TAG_KEY_PATTERN.test(key)) {
    throw new ProblemException('VALIDATION_FAILED', `tag key ${key} must be 1-250 letters, digits, _ . - /`, {
      errors: [{ field: 'key', message: 'invalid tag key' }],
    });
  }
  return key;
};
