import { createReadStream } from 'node:fs';
import { Controller, Get, HttpCode, Inject, Put, Query, Req, StreamableFile, UseFilters } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOkResponse, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ModelScope, RAW_BODY_MEDIA_TYPE, RequireRole } from '@mrw/platform';
import { MlflowArtifacts, type MlflowFileInfo } from './mlflow-artifacts';
import { MlflowError, MlflowErrorFilter } from './mlflow-wire';

/** The `*path` wildcard's value: Express 5 gives its segments as an array. */
const wildcardPath = (request: Request): string => {
  const value = (request.params as Record<string, string | string[] | undefined>)['path'];
  return Array.isArray(value) ? value.join('/') : (value ?? '');
};

/** The wildcard in the document: one template parameter whose value may span segments (`run/model/MLmodel`). */
const ApiArtifactPath = (): MethodDecorator =>
  ApiParam({ name: 'path', required: true, description: 'The artifact\'s path under the root; it may contain `/`', schema: { type: 'string', minLength: 1 } });

const LISTING_SCHEMA = {
  type: 'object',
  properties: {
    files: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'is_dir'],
        properties: { path: { type: 'string' }, is_dir: { type: 'boolean' }, file_size: { type: 'integer', description: 'files only' } },
      },
    },
  },
};

/**
 * MLflow's artifact proxy (`mlflow-artifacts:` URIs): what `log_model` uploads and what
 * `load_model("models:/name@alias")` downloads, kept in our content-addressed store.
 */
@ApiTags('mlflow')
@ApiBearerAuth()
// Artifacts belong to no model until a version names them (as with /api/v1/artifacts).
@ModelScope('no-single-model')
@UseFilters(MlflowErrorFilter)
@Controller('api/2.0/mlflow-artifacts/artifacts')
export class MlflowArtifactsController {
  constructor(@Inject(MlflowArtifacts) private readonly artifacts: MlflowArtifacts) {}

  @Get()
  @RequireRole('viewer')
  @ApiQuery({ name: 'path', required: false, description: 'The folder to list (the root when absent)' })
  @ApiOkResponse({ description: 'The files and folders directly under the folder', schema: LISTING_SCHEMA })
  async list(@Query('path') path?: string): Promise<{ files: MlflowFileInfo[] }> {
    return { files: await this.artifacts.list(typeof path === 'string' ? path : undefined) };
  }

  @Put('*path')
  @HttpCode(200)
  @RequireRole('contributor')
  @ApiArtifactPath()
  @ApiConsumes(RAW_BODY_MEDIA_TYPE)
  // An empty file is a file: MLflow uploads zero bytes for an empty artifact.
  @ApiBody({ description: 'The file\'s bytes, any media type; none for an empty file', required: false, schema: { type: 'string', format: 'binary' } })
  @ApiOkResponse({ description: 'Stored (an empty object, as MLflow answers)', schema: { type: 'object', additionalProperties: false } })
  async upload(@Req() request: Request): Promise<Record<string, never>> {
    const length = request.headers['content-length'];
    await this.artifacts.put(wildcardPath(request), request, length === undefined ? undefined : Number(length));
    return {};
  }

  @Get('*path')
  @RequireRole('viewer')
  @ApiArtifactPath()
  @ApiOkResponse({ description: 'The file\'s bytes', content: { [RAW_BODY_MEDIA_TYPE]: { schema: { type: 'string', format: 'binary' } } } })
  async download(@Req() request: Request): Promise<StreamableFile> {
    const path = wildcardPath(request);
    const found = await this.artifacts.get(path);
    if (!found) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `No artifact at ${path}`);
    return new StreamableFile(createReadStream(found.file), { type: 'application/octet-stream', length: found.size });
  }
}
