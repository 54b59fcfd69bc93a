import { fail, type Result } from './result';

/** Tag keys as everywhere in the registry: letters, digits, `_ . - /`, 1-250 characters. */
export const TAG_KEY_PATTERN = /^[A-Za-z0-9_.\-/]{1,250}$/;
/** The longest tag value, as at creation. */
export const TAG_VALUE_MAX_LENGTH = 5000;
/** The longest description of a model or version, as at creation. */
export const DESCRIPTION_MAX_LENGTH = 5000;

export type DescriptiveFieldError = 'INVALID_TAG' | 'INVALID_DESCRIPTION';

/** Checks a tag after creation with the rules creation applies; undefined when it is acceptable. */
export const invalidTag = (key: string, value = ''): Result<never, DescriptiveFieldError> | undefined => {
  if (!TAG_KEY_PATTERN.test(key)) return fail('INVALID_TAG', `tag key ${key} must be 1-250 letters, digits, _ . - /`);
  if (value.length > TAG_VALUE_MAX_LENGTH) return fail('INVALID_TAG', `the value of tag ${key} is longer than ${TAG_VALUE_MAX_LENGTH} characters`);
  return undefined;
};

/** Checks a replacement description; undefined when it is acceptable. */
export const invalidDescription = (description: string): Result<never, DescriptiveFieldError> | undefined =>
  description.length > DESCRIPTION_MAX_LENGTH
    ? fail('INVALID_DESCRIPTION', `the description is longer than ${DESCRIPTION_MAX_LENGTH} characters`)
    : undefined;
