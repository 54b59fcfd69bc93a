import { readFile, rm } from 'node:fs/promises';
import { Body, Controller, Get, HttpCode, Param, Post, UploadedFiles, UseInterceptors } from '@nestjs/common';
import { FileFieldsInterceptor } from '@nestjs/platform-express';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, ProblemException, RequireRole, type AuthPrincipal } from '@mrw/platform';
import { EvaluationSetCatalog } from '../evaluation-sets/evaluation-set-catalog';
import { parseManifest } from './evaluation-set-manifest.dto';

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
@Controller('api/v1/evaluation-sets/:name')
export class UploadEvaluationSetController {
  constructor(private readonly catalog: EvaluationSetCatalog) {}

  @Post('versions')
  @HttpCode(201)
  @RequireRole('admin')
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file', 'manifest'],
      properties: {
        file: { type: 'string', format: 'binary', description: 'CSV (header row) or Parquet' },
        manifest: { type: 'string', description: 'JSON {task, label, features?, slices?, costMatrix?}' },
      },
    },
  })
  @UseInterceptors(FileFieldsInterceptor([{ name: 'file', maxCount: 1 }, { name: 'manifest', maxCount: 1 }]))
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
  @RequireRole('viewer')
  async list(@Param('name') raw: string) {
    const name = setName(raw);
    const versions = await this.catalog.versions(name);
    if (versions.length === 0) throw new ProblemException('SET_NOT_FOUND', `no evaluation set named ${name}`);
    return { name, versions };
  }
}
