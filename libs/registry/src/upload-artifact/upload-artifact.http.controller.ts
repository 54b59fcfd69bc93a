import { Controller, HttpCode, Inject, Post, UploadedFiles, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import { ContentAddressedStore, type StoredArtifact } from '@mrw/artifacts';
import { ModelScope, MultipartInterceptor, ProblemException, RequireRole } from '@mrw/platform';
import { ARTIFACT_STORE } from '../register-version/artifact-sources';
import { ARTIFACT_SCHEMA } from '../shared/api-schemas';

/**
 * Content-addressed upload: the file is streamed to disk, hashed, and stored under its
 * sha256; uploading the same bytes again returns the same URI.
 */
@ApiTags('artifacts')
@ApiBearerAuth()
// Artifacts are content-addressed and belong to no model until a version names them.
@ModelScope('no-single-model')
@Controller('api/v1/artifacts')
export class UploadArtifactController {
  constructor(@Inject(ARTIFACT_STORE) private readonly artifacts: ContentAddressedStore) {}

  @Post()
  @ApiCreatedResponse({ description: 'Where the bytes are stored, by content', schema: ARTIFACT_SCHEMA })
  @HttpCode(201)
  @RequireRole('contributor')
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } }, required: ['file'] } })
  @UseInterceptors(MultipartInterceptor([{ name: 'file' }]))
  async upload(@UploadedFiles() files: { file?: Express.Multer.File[] } | undefined): Promise<StoredArtifact> {
    const file = files?.file?.[0];
    if (!file?.path) {
      throw new ProblemException('VALIDATION_FAILED', 'send the model file as the multipart part named "file"', {
        errors: [{ field: 'file', message: 'missing' }],
      });
    }
    return this.artifacts.importFile(file.path);
  }
}
