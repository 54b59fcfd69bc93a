import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { deriveId } from '@mrw/contracts';
import type { CreatedModel, RegisteredVersion } from '@mrw/domain';
import type { RecordedEvent } from '@mrw/event-store';
import { CurrentPrincipal, ModelScope, RequireRole, type AuthPrincipal } from '@mrw/platform';
import { CommandMetadataFactory } from '../application/command-metadata.factory';
import { RegistryStreams } from '../application/registry-streams';
import { RegistryProjector } from '../projections/registry-projector';
import { ApiIdempotencyKey, VERSION_SCHEMA } from '../shared/api-schemas';
import { ApiPathParams, parseModelName } from '../shared/http-params';
import { versionView } from '../shared/views';
import { ArtifactSources } from './artifact-sources';
import { RegisterVersionDto } from './register-version.dto';

@ApiTags('versions')
@ApiBearerAuth()
@ModelScope({ param: 'name' })
@Controller('api/v1/models/:name/versions')
export class RegisterVersionController {
  constructor(
    private readonly streams: RegistryStreams,
    private readonly metadata: CommandMetadataFactory,
    private readonly sources: ArtifactSources,
    private readonly projector: RegistryProjector,
  ) {}

  /**
   * Two appends: the number is reserved on the model's stream (optimistic concurrency makes
   * numbers distinct and consecutive), then the version's own stream is created. A retry with
   * the same Idempotency-Key finds its reservation and completes the second step.
   */
  @Post()
  @ApiCreatedResponse({ description: 'The version, in stage None', schema: VERSION_SCHEMA })
  @ApiPathParams.name()
  @ApiIdempotencyKey()
  @HttpCode(201)
  @RequireRole('contributor')
  async register(
    @Param('name') rawName: string,
    @Body() body: RegisterVersionDto,
    @CurrentPrincipal() principal: AuthPrincipal,
    @Req() request: Request,
  ) {
    const name = parseModelName(rawName);
    await this.streams.existingModel(name);
    const { source, digest } = await this.sources.resolve(body.source, body.artifactDigest);
    const metadata = this.metadata.fromRequest(principal, request);
    const reserved = await this.streams.executeModel(name, { type: 'ReserveVersionNumber', data: {}, metadata });
    const model = reserved.state as CreatedModel;
    // On a replay the executor hands back the original reservation, so the number is the same.
    const reservation = reserved.events[0] as RecordedEvent & { data: { version: number } };
    const version = reservation.data.version;
    const registered = await this.streams.executeVersion(name, version, {
      type: 'RegisterModelVersion',
      data: {
        model: name,
        version,
        source,
        artifactDigest: digest,
        runId: body.runId ?? null,
        metrics: body.metrics ?? {},
        tags: body.tags ?? {},
        description: body.description ?? '',
      },
      metadata: { ...metadata, commandId: deriveId(metadata.commandId, 'register') },
    });
    await this.projector.waitFor(registered.position);
    return versionView(registered.state as RegisteredVersion, model.aliases);
  }
}
