import { Injectable } from '@nestjs/common';
import type { CommandMetadata, Stage } from '@mrw/contracts';
import type { RegisteredVersion, TransitionRequestView } from '@mrw/domain';
import { RegistryStreams } from '../application/registry-streams';
import { RegistryProjector } from '../projections/registry-projector';

export interface RequestedTransition {
  readonly version: RegisteredVersion;
  /** The request this command made (or had made, on a replay); null when the rules appended none. */
  readonly request: TransitionRequestView | null;
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
  ) {}

  async request(name: string, version: number, toStage: Stage, comment: string, metadata: CommandMetadata): Promise<RequestedTransition> {
    const model = await this.streams.existingModel(name);
    const result = await this.streams.executeVersion(name, version, {
      type: 'RequestStageTransition',
      data: { toStage, comment, context: await this.streams.gateContext(model) },
      metadata,
    });
    await this.projector.waitFor(result.position);
    const state = result.state as RegisteredVersion;
    return { version: state, request: state.requests.find((r) => r.id === metadata.commandId) ?? null };
  }
}
