import { Injectable } from '@nestjs/common';
import type { CommandMetadata } from '@mrw/contracts';
import {
  decideModelVersion,
  previousServingVersion,
  servingVersionOf,
  type CreatedModel,
  type Principal,
  type RegisteredVersion,
  type RequestRollback,
} from '@mrw/domain';
import { ProblemException, problemFromDomainError } from '@mrw/platform';
import { RegistryStreams } from '../application/registry-streams';
import { RegistryProjector } from '../projections/registry-projector';

/** A rollback to ask for: by a person over the API, or by the registry itself after a live-metric breach. */
export interface RollbackAsk {
  readonly model: CreatedModel;
  /** The version to serve again; default: the last one that served before the current one. */
  readonly toVersion?: number;
  readonly reason: string;
  readonly emergency: boolean;
  readonly principal: Principal;
  /** Its command id is the rollback's id: the same id asks for nothing twice. */
  readonly metadata: CommandMetadata;
}

/** What came of a rollback request, as `POST /models/{name}/rollback` answers it. */
export interface RollbackOutcome {
  readonly id: string;
  readonly fromVersion: number | null;
  readonly toVersion: number;
  readonly emergency: boolean;
  readonly status: 'awaiting-approval' | 'deploying' | 'requested';
  readonly approvalId: string | null;
  readonly deploymentId: string | null;
}

/**
 * Requests a rollback (rule 8) through the version's decider: the rollback policy's approval
 * (`approval.Rollback`, default one reviewer) and the deployment pipeline, whoever asks. The
 * one path for the API's one-click rollback and the registry's own after a live-metric breach
 * (`policy.archival.liveMetric.rollback`).
 */
@Injectable()
export class RollbackRequests {
  constructor(
    private readonly streams: RegistryStreams,
    private readonly projector: RegistryProjector,
  ) {}

  /** Requests the rollback; a refusal (no target, the lifecycle rules) is a ProblemException. */
  async request(ask: RollbackAsk): Promise<RollbackOutcome> {
    const { target, command } = await this.commandOf(ask);
    const result = await this.streams.executeVersion(ask.model.name, target, command);
    await this.projector.waitFor(result.position);
    const state = result.state as RegisteredVersion;
    const id = ask.metadata.commandId;
    const approval = state.approvals.find((a) => a.requestId === id);
    const deployment = state.deployments.find((d) => d.requestId === id);
    return {
      id,
      fromVersion: command.data.servingVersion,
      toVersion: target,
      emergency: ask.emergency,
      status: approval && !approval.afterTheFact ? 'awaiting-approval' : deployment ? 'deploying' : 'requested',
      approvalId: approval?.id ?? null,
      deploymentId: deployment?.id ?? null,
    };
  }

  /**
   * Why `request` would be refused now, without writing anything (undefined: it would pass),
   * so that whoever asks on its own initiative can record beforehand whether it will.
   */
  async refusalOf(ask: RollbackAsk): Promise<ProblemException | undefined> {
    try {
      const { target, command } = await this.commandOf(ask);
      const decision = decideModelVersion(command, await this.streams.version(ask.model.name, target));
      return decision.ok ? undefined : problemFromDomainError(decision.error);
    } catch (error) {
      if (error instanceof ProblemException) return error;
      throw error;
    }
  }

  private async commandOf(ask: RollbackAsk): Promise<{ target: number; command: RequestRollback }> {
    const name = ask.model.name;
    const target = ask.toVersion ?? previousServingVersion(ask.model);
    if (target === null) {
      throw new ProblemException('NO_ROLLBACK_TARGET', `no version of ${name} served before the current one: name one with toVersion`);
    }
    await this.streams.existingVersion(name, target);
    return {
      target,
      command: {
        type: 'RequestRollback',
        data: {
          reason: ask.reason,
          emergency: ask.emergency,
          principal: ask.principal,
          policy: ask.model.policy,
          servingVersion: servingVersionOf(ask.model),
        },
        metadata: ask.metadata,
      },
    };
  }
}
