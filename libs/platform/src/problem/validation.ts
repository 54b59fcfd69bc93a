import { ValidationPipe, type ArgumentMetadata, type Type, type ValidationError } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { ProblemException, type FieldError } from './problem';

const flatten = (errors: readonly ValidationError[], prefix = ''): FieldError[] =>
  errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      field,
      message: message.replace(/^property (\S+) should not exist$/, 'unknown field'),
    }));
    return [...own, ...flatten(error.children ?? [], field)];
  });

/**
 * What is left of a validated body after an optional field sent as `null`: the field absent, as
 * `@IsOptional()` already judged it, so handlers see one "not given". Free-form maps (plain
 * objects inside a DTO, such as tags or settings) keep their values as sent.
 */
const dropNulls = (value: unknown): void => {
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) return value.forEach(dropNulls);
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype === Object.prototype || prototype === null) return;
  for (const [key, field] of Object.entries(value)) {
    if (field === null) delete (value as Record<string, unknown>)[key];
    else dropNulls(field);
  }
};

/**
 * A body-taking route refuses a request without one (rather than validating `{}` in its
 * place), unless its DTO says every field is optional (`static readonly bodyOptional = true`:
 * an approval's comment, say), where no body means `{}`.
 */
class RequestValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const dto = metadata.type === 'body' && typeof metadata.metatype === 'function' && metadata.metatype !== Object;
    if (dto && value === undefined && (metadata.metatype as { bodyOptional?: boolean }).bodyOptional === true) {
      value = {};
    }
    if (dto && value === undefined) {
      throw new ProblemException('VALIDATION_FAILED', 'the request is invalid: body: send a JSON body', {
        errors: [{ field: 'body', message: 'missing' }],
      });
    }
    if (isEmptyObject(value) && metadata.metatype !== undefined && this.toValidate(metadata) && this.emptyIsValid(metadata.metatype)) {
      // Most reads send no query at all: the DTO was checked against `{}` once, so only transform.
      return plainToInstance(metadata.metatype, value);
    }
    const result: unknown = await super.transform(value, metadata);
    if (dto) dropNulls(result);
    return result;
  }

  /** Whether `{}` passes the DTO's validation, worked out the first time it is asked (class metadata does not change). */
  private emptyIsValid(metatype: Type<unknown>): boolean {
    let verdict = emptyVerdicts.get(metatype);
    if (verdict === undefined) {
      verdict = validateSync(plainToInstance(metatype, {}) as object, VALIDATOR_OPTIONS).length === 0;
      emptyVerdicts.set(metatype, verdict);
    }
    return verdict;
  }
}

const emptyVerdicts = new WeakMap<Type<unknown>, boolean>();

const isEmptyObject = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;

/** class-validator on every body and query: unknown fields refused, errors listed per field. */
const VALIDATOR_OPTIONS = { whitelist: true, forbidNonWhitelisted: true, stopAtFirstError: false } as const;

export const createValidationPipe = (): ValidationPipe =>
  new RequestValidationPipe({
    ...VALIDATOR_OPTIONS,
    transform: true,
    exceptionFactory: (errors) => {
      const fieldErrors = flatten(errors);
      return new ProblemException(
        'VALIDATION_FAILED',
        `the request is invalid: ${fieldErrors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
        { errors: fieldErrors },
      );
    },
  });
