import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, type ValidationArguments } from 'class-validator';

/** Text without C0 control characters (NUL included) or DEL: nothing a filter, a log line or SQLite must cope with. */
export const PRINTABLE = /^[^\u0000-\u001f\u007f]*$/;

/** Plain decimal digits: `1e3`, `0x10`, `1.0`, ` 7` and the empty string are not integers here. */
const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

export interface QueryIntegerOptions {
  readonly min: number;
  readonly max: number;
  readonly default?: number;
  readonly description?: string;
}

/**
 * An optional integer query parameter, validated and documented in one place: decimal digits
 * within `[min, max]` (both safe integers, so nothing overflows SQLite's 64-bit integers).
 */
export const QueryInteger = (options: QueryIntegerOptions): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({
      type: 'integer',
      minimum: options.min,
      maximum: options.max,
      ...(options.default !== undefined ? { default: options.default } : {}),
      ...(options.description ? { description: options.description } : {}),
    }),
    IsOptional(),
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' && DECIMAL.test(value) ? Number(value) : value)),
    IsInt({ message: (args: ValidationArguments) => `${args.property} must be a whole number written in decimal digits` }),
    Min(options.min),
    Max(options.max),
  );

export interface QueryTextOptions {
  readonly maxLength: number;
  /** A stricter shape than "printable"; it is checked as well as PRINTABLE. */
  readonly pattern?: RegExp;
  readonly required?: boolean;
  readonly description?: string;
  readonly example?: string;
}

/** A query parameter of text: bounded in length, no control characters, optionally of a given shape. */
export const QueryText = (options: QueryTextOptions): PropertyDecorator =>
  applyDecorators(
    (options.required ? ApiProperty : ApiPropertyOptional)({
      type: 'string',
      maxLength: options.maxLength,
      pattern: (options.pattern ?? PRINTABLE).source,
      ...(options.description ? { description: options.description } : {}),
      ...(options.example ? { example: options.example } : {}),
    }),
    ...(options.required ? [] : [IsOptional()]),
    IsString(),
    MaxLength(options.maxLength),
    Matches(PRINTABLE, { message: (args: ValidationArguments) => `${args.property} must not contain control characters` }),
    ...(options.pattern
      ? [Matches(options.pattern, { message: (args: ValidationArguments) => `${args.property} must match ${options.pattern?.source}` })]
      : []),
  );
