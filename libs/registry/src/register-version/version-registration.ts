import { Injectable } from '@nestjs/common';
import { deriveId, type CommandMetadata } from '@mrw/contracts';
import type { CreatedModel, RegisteredVersion } from '@mrw/domain';
import type { RecordedEvent } from '@mrw/event-store';
import { RegistryStreams } from '../application/registry-streams';
import { RegistryProjector } from '../projections/registry-projector';
import { ArtifactSources } from './artifact-sources';

/** What a new version is registered with, whoever asks: a request to the API or a training platform's event. */
export interface VersionToRegister {
  readonly source: string;
  readonly artifactDigest?: string | undefined;
  readonly runId?: string | null | undefined;
  readonly metrics?: Readonly<Record<string, number>> | undefined;
  readonly tags?: Readonly<Record<string, string>> | undefined;
  readonly description?: string | undefined;
}

export interface RegisteredVersionResult {
  readonly version: RegisteredVersion;
  readonly model: CreatedModel;
  /** The command had registered this version before (same command id): nothing new was appended. */
  readonly replayed: boolean;
}

/**
 * Registers a version of an existing model: the source is checked and its digest settled,
 * then two appends. The number is reserved on the model's stream (optimistic concurrency makes
 * numbers distinct and consecutive), then the version's own stream is created. A retry with
 * the same command id finds its reservation and completes the second step.
 */
@Injectable()
export class VersionRegistration {
  constructor(
    private readonly streams: RegistryStreams,
    private readonly sources: ArtifactSources,
    private readonly projector: RegistryProjector,
  ) {}

  async register(name: string, input: VersionToRegister, metadata: CommandMetadata): Promise<RegisteredVersionResult> {
    // Checked first, so a request naming no model is answered so before its source is fetched.
    await this.streams.assertModelExists(name);
    const { source, digest } = await this.sources.resolve(input.source, input.artifactDigest);
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
        runId: input.runId ?? null,
        metrics: { ...input.metrics },
        tags: { ...input.tags },
        description: input.description ?? '',
      },
      metadata: { ...metadata, commandId: deriveId(metadata.commandId, 'register') },
    });
    await this.projector.waitFor(registered.position);
    return { version: registered.state as RegisteredVersion, model, replayed: reserved.replayed && registered.replayed };
  }
}
