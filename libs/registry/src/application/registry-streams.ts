import { Inject, Injectable } from '@nestjs/common';
import {
  modelStream,
  modelVersionStream,
  type ModelEvent,
  type ModelVersionEvent,
} from '@mrw/contracts';
import {
  decideModel,
  decideModelVersion,
  evolveModel,
  evolveModelVersion,
  initialModelState,
  initialModelVersionState,
  servingVersionOf,
  type CreatedModel,
  type GateContext,
  type ModelCommand,
  type ModelState,
  type ModelVersionCommand,
  type ModelVersionState,
  type RegisteredVersion,
} from '@mrw/domain';
import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import { ProblemException } from '@mrw/platform';
import { CommandExecutor, toTimed, type Decider, type Executed } from './command-executor';
import { EVALUATION_SETS, type EvaluationSetDirectory } from './evaluation-set-directory';

export const modelDecider: Decider<ModelState, ModelCommand, ModelEvent> = {
  initialState: initialModelState,
  evolve: evolveModel,
  decide: decideModel,
};

export const modelVersionDecider: Decider<ModelVersionState, ModelVersionCommand, ModelVersionEvent> = {
  initialState: initialModelVersionState,
  evolve: evolveModelVersion,
  decide: decideModelVersion,
};

/** Loads and changes the registry's aggregates; the only way the registry writes its streams. */
@Injectable()
export class RegistryStreams {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly executor: CommandExecutor,
    @Inject(EVALUATION_SETS) private readonly evaluationSets: EvaluationSetDirectory,
  ) {}

  /** A model's state, now or as of a past moment (the fold of its events up to then). */
  async model(name: string, asOf?: string): Promise<ModelState> {
    if (asOf === undefined) return this.executor.current(modelStream(name), modelDecider);
    const events = await this.store.readStream(modelStream(name));
    return events
      .filter((e) => e.metadata.occurredAt <= asOf)
      .reduce((s, e) => evolveModel(s, toTimed<ModelEvent>(e)), initialModelState());
  }

  async existingModel(name: string, asOf?: string): Promise<CreatedModel> {
    const state = await this.model(name, asOf);
    if (state.status !== 'created') {
      throw new ProblemException('MODEL_NOT_FOUND', asOf ? `model ${name} did not exist at ${asOf}` : `model ${name} does not exist`);
    }
    return state;
  }

  /**
   * Fails with MODEL_NOT_FOUND unless the model exists. Models are never deleted, so one this
   * process has seen created needs no read of its stream.
   */
  async assertModelExists(name: string): Promise<void> {
    if (this.executor.lastKnown<ModelState>(modelStream(name))?.status === 'created') return;
    await this.existingModel(name);
  }

  async version(model: string, version: number, asOf?: string): Promise<ModelVersionState> {
    if (asOf === undefined) return this.executor.read(modelVersionStream(model, version), modelVersionDecider);
    const events = await this.store.readStream(modelVersionStream(model, version));
    return events
      .filter((e) => asOf === undefined || e.metadata.occurredAt <= asOf)
      .reduce((s, e) => evolveModelVersion(s, toTimed<ModelVersionEvent>(e)), initialModelVersionState());
  }

  async existingVersion(model: string, version: number, asOf?: string): Promise<RegisteredVersion> {
    const state = await this.version(model, version, asOf);
    if (state.status !== 'registered') {
      throw new ProblemException(
        'VERSION_NOT_FOUND',
        asOf ? `version ${version} of ${model} did not exist at ${asOf}` : `model ${model} has no version ${version}`,
      );
    }
    return state;
  }

  /**
   * What the gates need beyond the version's stream: policy, serving champion, current set
   * version, and the champion's artifact, which an evaluation request carries to the evaluator.
   */
  async gateContext(model: CreatedModel): Promise<GateContext> {
    const evaluation = model.policy.evaluation;
    const currentSetDigest = evaluation
      ? (evaluation.setVersion ?? (await this.evaluationSets.currentDigest(evaluation.set)))
      : null;
    const servingVersion = servingVersionOf(model);
    // Only an evaluation needs the champion's file: without an evaluation policy, skip the read.
    const serving = evaluation && servingVersion !== null ? await this.version(model.name, servingVersion) : null;
    const servingArtifact =
      serving?.status === 'registered' ? { source: serving.source, digest: serving.artifactDigest } : null;
    return { policy: model.policy, currentSetDigest, servingVersion, servingArtifact };
  }

  executeModel(name: string, command: ModelCommand): Promise<Executed<ModelState>> {
    return this.executor.execute(modelStream(name), modelDecider, command);
  }

  executeVersion(model: string, version: number, command: ModelVersionCommand): Promise<Executed<ModelVersionState>> {
    return this.executor.execute(modelVersionStream(model, version), modelVersionDecider, command);
  }
}
