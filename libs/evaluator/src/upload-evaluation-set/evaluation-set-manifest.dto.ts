import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, MaxLength, validateSync } from 'class-validator';
import { assertSafeJson, ProblemException } from '@mrw/platform';
import type { EvaluationSetManifest } from '../evaluation-sets/evaluation-set';

export class EvaluationSetManifestDto {
  @ApiProperty({ enum: ['binary', 'multiclass', 'regression'] })
  @IsIn(['binary', 'multiclass', 'regression'])
  task!: 'binary' | 'multiclass' | 'regression';

  @ApiProperty({ example: 'label', maxLength: 256 })
  @IsString()
  @MaxLength(256)
  label!: string;

  @ApiPropertyOptional({ description: "feature columns in the model's input order; default: all but label and slices", type: [String], maxItems: 10_000 })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10_000)
  @IsString({ each: true })
  features?: string[];

  @ApiPropertyOptional({ description: 'columns that define groups for fairness metrics', type: [String], maxItems: 20 })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  slices?: string[];

  @ApiPropertyOptional({
    description: 'value[trueClass][predictedClass] per row: gains positive, costs negative',
    type: 'array',
    items: { type: 'array', items: { type: 'number' } },
  })
  @IsOptional()
  @IsArray()
  costMatrix?: number[][];
}

const fail = (message: string, errors: Array<{ field: string; message: string }>): never => {
  throw new ProblemException('INVALID_MANIFEST', message, { errors }, 422);
};

/** Parses and checks the `manifest` part of an upload. */
export const parseManifest = (raw: string | undefined): EvaluationSetManifest => {
  if (!raw) return fail('send the manifest as the multipart part named "manifest" (JSON)', [{ field: 'manifest', message: 'missing' }]);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    return fail(`the manifest is not JSON: ${(error as Error).message}`, [{ field: 'manifest', message: 'not JSON' }]);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return fail('the manifest must be a JSON object {task, label, features?, slices?, costMatrix?}', [
      { field: 'manifest', message: 'must be a JSON object' },
    ]);
  }
  // The same depth and prototype-key checks as a JSON body, before class-transformer recurses.
  assertSafeJson(json, 'manifest');
  const dto = plainToInstance(EvaluationSetManifestDto, json);
  const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true }).flatMap((e) =>
    Object.values(e.constraints ?? {}).map((message) => ({ field: `manifest.${e.property}`, message })),
  );
  // An optional field sent as null is absent, as @IsOptional() judged it.
  const matrix = dto.costMatrix ?? undefined;
  // Not an array at all is already an error of @IsArray(); only an array's shape is checked here.
  if (Array.isArray(matrix)) {
    const k = matrix.length;
    const square = matrix.every((row) => Array.isArray(row) && row.length === k && row.every((v) => typeof v === 'number' && Number.isFinite(v)));
    if (!square || k < 2 || dto.task === 'regression') {
      errors.push({ field: 'manifest.costMatrix', message: 'must be a square matrix of finite numbers, one row and column per class' });
    }
  }
  if (errors.length > 0) fail(`the manifest is invalid: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, errors);
  return {
    task: dto.task,
    label: dto.label,
    ...(dto.features ? { features: dto.features } : {}),
    ...(dto.slices ? { slices: dto.slices } : {}),
    ...(matrix ? { costMatrix: matrix } : {}),
  };
};
