import { readFile, rm } from 'node:fs/promises';
import { Body, Controller, Get, HttpCode, Param, Post, UploadedFiles, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiCreatedResponse, ApiExtraModels, ApiOkResponse, ApiParam, ApiTags, getSchemaPath } from '@nestjs/swagger';
import {
  CurrentPrincipal,
  MAX_BODY_BYTES,
  ModelScope,
  MultipartInterceptor,
  ProblemException,
  RequireRole,
  type AuthPrincipal,
} from '@mrw/platform';
import { EvaluationSetCatalog } from '../evaluation-sets/evaluation-set-catalog';
import { EvaluationSetManifestDto, parseManifest } from './evaluation-set-manifest.dto';

const SET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const setName = (raw: string): string => {
  if (!SET_NAME.test(raw)) {
    throw new ProblemException('VALIDATION_FAILED', `set name ${raw} must match ${SET_NAME.source}`, {
      errors: [{ field: 'name', message: 'invalid set name' }],
    });
  }
  return raw;
};

type Uploaded = { file?: Express.Multer.File[]; manifest?: Express.Multer.File[] };

/**
 * Standard evaluation sets. Uploading is an admin's act: the set is what every promotion
 * of the models that use it is judged on.
 */
@ApiTags('evaluation-sets')
@ApiBearerAuth()
@ApiParam({ name: 'name', schema: { type: 'string', pattern: SET_NAME.source, maxLength: 128 } })
@Controller('api/v1/evaluation-sets/:name')
export class UploadEvaluationSetController {
  constructor(private readonly catalog: EvaluationSetCatalog) {}

  @Post('versions')
  @ApiCreatedResponse({
    description: 'The set version (the existing one when the same bytes and manifest were uploaded before)',
    schema: {
      type: 'object',
      required: ['name', 'version', 'digest', 'rows', 'format'],
      properties: {
        name: { type: 'string' },
        version: { type: 'integer' },
        digest: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
        rows: { type: 'integer' },
        format: { type: 'string', enum: ['csv', 'parquet'] },
      },
    },
  })
  @HttpCode(201)
  @RequireRole('admin')
  @ApiConsumes('multipart/form-data')
  @ApiExtraModels(EvaluationSetManifestDto)
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file', 'manifest'],
      properties: {
        file: { type: 'string', format: 'binary', description: 'CSV (header row) or Parquet' },
        // A JSON part (multipart's default for an object); a text part holding the same JSON works too.
        manifest: { $ref: getSchemaPath(EvaluationSetManifestDto) },
      },
    },
  })
  @UseInterceptors(MultipartInterceptor([{ name: 'file' }, { name: 'manifest' }], ['manifest']))
  async upload(
    @Param('name') raw: string,
    @UploadedFiles() files: Uploaded,
    @Body() body: { manifest?: string },
    @CurrentPrincipal() principal: AuthPrincipal,
  ) {
    const file = files?.file?.[0];
    const manifestFile = files?.manifest?.[0];
    try {
      const name = setName(raw);
      if (manifestFile && manifestFile.size > MAX_BODY_BYTES) {
        throw new ProblemException('PAYLOAD_TOO_LARGE', `the manifest part is larger than ${MAX_BODY_BYTES} bytes`);
      }
      const manifest = parseManifest(manifestFile ? await readFile(manifestFile.path, 'utf8') : body?.manifest);
      if (!file) {
        throw new ProblemException('VALIDATION_FAILED', 'send the data as the multipart part named "file"', {
          errors: [{ field: 'file', message: 'missing' }],
        });
      }
      const version = await this.catalog.add(name, file.path, manifest, principal.actor);
      return { name, version: version.version, digest: version.digest, rows: version.rows, format: version.format };
    } finally {
      await Promise.all([file, manifestFile].map((f) => (f ? rm(f.path, { force: true }) : undefined)));
    }
  }

  @Get()
  @ApiOkResponse({
    schema: {
      type: 'object',
      required: ['name', 'versions'],
      properties: { name: { type: 'string' }, versions: { type: 'array', items: { type: 'object', additionalProperties: true } } },
    },
  })
  @RequireRole('viewer')
  // Sets are shared by every model that names them; reading one shows no model's data.
  @ModelScope('no-single-model')
  async list(@Param('name') raw: string) {
    const name = setName(raw);
    const versions = await this.catalog.versions(name);
    if (versions.length === 0) throw new ProblemException('SET_NOT_FOUND', `no evaluation set named ${name}`);
    return { name, versions };
  }
}
