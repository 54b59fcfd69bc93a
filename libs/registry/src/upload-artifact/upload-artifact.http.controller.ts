import { Controller, HttpCode, Inject, Post, UploadedFile, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiTags } from '@nestjs/swagger';
import { ContentAddressedStore, type StoredArtifact } from '@mrw/artifacts';
import { ProblemException, RequireRole } from '@mrw/platform';
import { ARTIFACT_STORE } from '../register-version/artifact-sources';

/**
 * Content-addressed upload: the file is streamed to disk, hashed, and stored under its
 * sha256; uploading the same bytes again returns the same URI.
 */
@ApiTags('artifacts')
@ApiBearerAuth()
@Controller('api/v1/artifacts')
export class UploadArtifactController {
  constructor(@Inject(ARTIFACT_STORE) private readonly artifacts: ContentAddressedStore) {}

  @Post()
  @HttpCode(201)
  @RequireRole('contributor')
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } }, required: ['file'] } })
  @UseInterceptors(FileInterceptor('file'))
  async upload(@UploadedFile() file: Express.Multer.File | undefined): Promise<StoredArtifact> {
    if (!file?.path) {
      throw new ProblemException('VALIDATION_FAILED', 'send the model file as the multipart part named "file"', {
        errors: [{ field: 'file', message: 'missing' }],
      });
    }
    return this.artifacts.importFile(file.path);
  }
}
