import { Injectable } from '@nestjs/common';
import type { CommandMetadata, Stage } from '@mrw/contracts';
import type { RegisteredVersion, TransitionRequestView } from '@mrw/domain';
import { RegistryStreams } from '../application/registry-streams';
import { RegistryProjector } from '../projections/registry-projector';
import { ExistingVersionsArchival, type ExistingVersionsArchived } from './archive-existing-versions';

export interface RequestedTransition {
  readonly version: RegisteredVersion;
  /** The request this command made (or had made, on a replay); null when the rules appended none. */
  readonly request: TransitionRequestView | null;
  /** With `archiveExistingVersions`, once the version is in Staging: what became of the others there. */
  readonly existingVersions?: ExistingVersionsArchived;
}

export interface TransitionOptions {
  /** MLflow's `archive_existing_versions`: archive the others in the stage once this one is there (Production: serving). */
  readonly archiveExistingVersions?: boolean;
}

/**
 * Requests a stage transition of a version, whoever asks: a person over the API or a training
 * platform's event. The decider applies the stage rules and, for Production, the automated
 * gates (a refusal by the gates is audited); entering Staging requests an evaluation.
 */
@Injectable()
export class StageTransitions {
  constructor(
    private readonly streams: RegistryStreams,
    private readonly projector: RegistryProjector,
    private readonly existing: ExistingVersionsArchival,
  ) {}

  async request(
    name: string,
    version: number,
    toStage: Stage,
    comment: string,
    metadata: CommandMetadata,
    options: TransitionOptions = {},
  ): Promise<RequestedTransition> {
    const model = await this.streams.existingModel(name);
    const result = await this.streams.executeVersion(name, version, {
      type: 'RequestStageTransition',
      data: {
        toStage,
        comment,
        context: await this.streams.gateContext(model),
        ...(options.archiveExistingVersions === true ? { archiveExistingVersions: true } : {}),
      },
      metadata,
    });
    await this.projector.waitFor(result.position);
    const state = result.state as RegisteredVersion;
    const request = state.requests.find((r) => r.id === metadata.commandId) ?? null;
    // Production archives the others once the version serves (the deployment's outcome); Staging, now.
    if (request?.archiveExistingVersions && request.toStage === 'Staging' && state.stage === 'Staging') {
      return { version: state, request, existingVersions: await this.existing.archiveOthers(name, 'Staging', version, request.id, metadata) };
    }
    return { version: state, request };
  }
}
