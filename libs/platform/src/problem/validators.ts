import { registerDecorator, type ValidationArguments, type ValidationOptions } from 'class-validator';

const TAG_KEY = /^[A-Za-z0-9_.\-/]{1,250}$/;

/** A flat object of string values with well-formed keys: tags and labels. */
export const IsStringMap = (options?: ValidationOptions): PropertyDecorator => (target, propertyName) => {
  registerDecorator({
    name: 'isStringMap',
    target: target.constructor,
    propertyName: String(propertyName),
    ...(options ? { options } : {}),
    validator: {
      validate: (value: unknown) =>
        typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        Object.keys(value).length <= 100 &&
        Object.entries(value).every(([k, v]) => TAG_KEY.test(k) && typeof v === 'string' && v.length <= 5000),
      defaultMessage: (args?: ValidationArguments) =>
        `${args?.property ?? 'value'} must be an object of at most 100 string values with keys of letters, digits, _ . - /`,
    },
  });
};

/** A flat object of finite numbers: training metrics. */
export const IsNumberMap = (options?: ValidationOptions): PropertyDecorator => (target, propertyName) => {
  registerDecorator({
    name: 'isNumberMap',
    target: target.constructor,
    propertyName: String(propertyName),
    ...(options ? { options } : {}),
    validator: {
      validate: (value: unknown) =>
        typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        Object.keys(value).length <= 1000 &&
        Object.entries(value).every(([k, v]) => TAG_KEY.test(k) && typeof v === 'number' && Number.isFinite(v)),
      defaultMessage: (args?: ValidationArguments) => `${args?.property ?? 'value'} must be an object of finite numbers`,
    },
  });
};
