import { registerDecorator, type ValidationArguments, type ValidationOptions } from 'class-validator';

const MAP_KEY = /^[A-Za-z0-9_.\-/]{1,250}$/;

/** A class-validator decorator for a flat object whose keys are well formed and whose values pass `valueOk`. */
const flatMapValidator =
  (name: string, limit: number, valueOk: (value: unknown) => boolean, describe: string) =>
  (options?: ValidationOptions): PropertyDecorator =>
  (target, propertyName) => {
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: String(propertyName),
      ...(options ? { options } : {}),
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          Object.keys(value).length <= limit &&
          Object.entries(value).every(([k, v]) => MAP_KEY.test(k) && valueOk(v)),
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property ?? 'value'} must be an object of at most ${limit} ${describe}, keys of letters, digits, _ . - /`,
      },
    });
  };

/** Tags and labels: string values up to 5,000 characters. */
export const IsStringMap = flatMapValidator(
  'isStringMap',
  100,
  (v) => typeof v === 'string' && v.length <= 5000,
  'string values',
);

/** Training metrics: finite numbers. */
export const IsNumberMap = flatMapValidator(
  'isNumberMap',
  1000,
  (v) => typeof v === 'number' && Number.isFinite(v),
  'finite numbers',
);

/** How `IsStringMap` values look in the OpenAPI document (key shape: letters, digits, _ . - /). */
export const STRING_MAP_SCHEMA = {
  type: 'object',
  maxProperties: 100,
  additionalProperties: { type: 'string', maxLength: 5000 },
} as const;

/** How `IsNumberMap` values look in the OpenAPI document. */
export const NUMBER_MAP_SCHEMA = { type: 'object', maxProperties: 1000, additionalProperties: { type: 'number' } } as const;
