import { Injectable, Logger } from '@nestjs/common';
import { deriveId, type CommandMetadata, type Stage } from '@mrw/contracts';
import { servingVersionOf } from '@mrw/domain';
import { ProblemException } from '@mrw/platform';
import { RegistryStreams } from '../application/registry-streams';
import { CatalogQueries } from '../browse-catalog/catalog.queries';
import { RegistryProjector } from '../projections/registry-projector';

/** What became of the other versions in the stage. */
export interface ExistingVersionsArchived {
  readonly archived: readonly number[];
  /** Versions the rules kept where they are (an approval or deployment in flight, serving), with why. */
  readonly kept: ReadonlyArray<{ readonly version: number; readonly code: string; readonly reason: string }>;
}

/**
 * MLflow's `archive_existing_versions`, through our rules: once a version is in a stage (for
 * Production: once it serves), every other version in that stage is archived with the usual
 * `ArchiveModelVersion` command, so one with an approval or a deployment in flight, or the one
 * serving, is kept (and said so in the log). Each archival's command id derives from the
 * request's, so doing it again after a crash or a retry archives nothing twice.
 */
@Injectable()
export class ExistingVersionsArchival {
  private readonly logger = new Logger('archive-existing-versions');

  constructor(
    private readonly streams: RegistryStreams,
    private readonly catalog: CatalogQueries,
    private readonly projector: RegistryProjector,
  ) {}

  async archiveOthers(model: string, stage: Stage, entered: number, requestId: string, metadata: CommandMetadata): Promise<ExistingVersionsArchived> {
    const servingVersion = servingVersionOf(await this.streams.existingModel(model));
    const others = this.catalog
      .listVersions(model, stage, 1_000_000, 0)
      .items.map((row) => row.version)
      .filter((version) => version !== entered)
      .sort((a, b) => a - b);
    const archived: number[] = [];
    const kept: Array<ExistingVersionsArchived['kept'][number]> = [];
    for (const version of others) {
      try {
        const result = await this.streams.executeVersion(model, version, {
          type: 'ArchiveModelVersion',
          data: {
            rule: 'archiveExistingVersions',
            detail: `v${entered} entered ${stage} on a request asking to archive the versions already there (archive_existing_versions)`,
            parameters: { archiveExistingVersions: true, requestId },
            evidence: { enteredVersion: entered, stage },
            servingVersion,
          },
          metadata: { ...metadata, commandId: deriveId(requestId, `archive-existing-v${version}`) },
        });
        await this.projector.waitFor(result.position);
        archived.push(version);
      } catch (error) {
        if (!(error instanceof ProblemException) || error.status >= 500) throw error;
        // A replayed archival is not a refusal: the version is archived already.
        if (error.code === 'ALREADY_IN_STAGE') continue;
        kept.push({ version, code: error.code, reason: error.message });
        this.logger.warn(`${model} v${version} stays in ${stage} (archive_existing_versions with v${entered}): ${error.code} ${error.message}`);
      }
    }
    return { archived, kept };
  }
}
