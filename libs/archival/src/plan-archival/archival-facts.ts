import {
  modelStream,
  parseModelVersionStream,
  type ApprovalEvidenceChanged,
  type ApprovalExpired,
  type ApprovalQuorumReached,
  type ApprovalRejected,
  type ApprovalRequested,
  type DeploymentFailed,
  type DeploymentRequested,
  type DeploymentSucceeded,
  type ModelPolicy,
  type ModelPolicySet,
  type ModelServingVersionChanged,
  type Stage,
  type StageTransitioned,
} from '@mrw/contracts';
import { VersionTable } from './version-table';

/** One of the registry's events as the archival service reads it from the log. */
export interface FactEvent {
  readonly type: string;
  readonly data: unknown;
  readonly streamName: string;
  /** ISO 8601: when it happened (its metadata's `occurredAt`). */
  readonly occurredAt: string;
}

/** What the archival rules need to know of one version. */
export interface VersionFacts {
  readonly version: number;
  readonly stage: Stage;
  /** When it entered its stage. */
  readonly stageSince: string;
  readonly registeredAt: string;
  /**
   * Since when it counts among the non-archived versions: its registration, or its latest
   * return from Archived. `keepAtMost` ranks versions by it, so a restored version is not the
   * oldest at once (and archived again before it could be re-evaluated).
   */
  readonly listedSince: string;
  /** Served successfully at least once. */
  readonly everServed: boolean;
  /** Serving as its own stream tells it (DeploymentSucceeded until ServingEnded). */
  readonly serving: boolean;
  /** When a newer version started serving in its place; null while it serves or if it never left serving that way. */
  readonly supersededAt: string | null;
  readonly supersededBy: number | null;
  /** Open approvals the registry waits on (after-the-fact reviews of emergency rollbacks block nothing, and are left out). */
  readonly pendingApprovals: readonly string[];
  readonly deploymentsInFlight: readonly string[];
}

/** What the archival rules need to know of one model: its policy, who serves, and its versions. */
export interface ModelFacts {
  readonly model: string;
  readonly policy: ModelPolicy;
  readonly servingVersion: number | null;
  readonly servingSince: string | null;
  /** The version that served before the current one (the registry's default rollback target). */
  readonly rollbackTarget: number | null;
  /** By version number, oldest first. */
  readonly versions: VersionTable<VersionFacts>;
}

/** A model the archival service has not heard of yet. */
export const emptyModelFacts = (model: string): ModelFacts => ({
  model,
  policy: {},
  servingVersion: null,
  servingSince: null,
  rollbackTarget: null,
  versions: VersionTable.empty(),
});

/** The facts of one version, or undefined when the model has no such version (yet). */
export const versionFacts = (facts: ModelFacts, version: number): VersionFacts | undefined => facts.versions.get(version);

const updateVersion = (facts: ModelFacts, version: number, change: (v: VersionFacts) => VersionFacts): ModelFacts => {
  const current = facts.versions.get(version);
  if (current === undefined) return facts;
  return { ...facts, versions: facts.versions.with(change(current)) };
};

const without = (ids: readonly string[], id: string): readonly string[] => ids.filter((x) => x !== id);

const evolveModelStream = (facts: ModelFacts, event: FactEvent): ModelFacts => {
  switch (event.type) {
    case 'ModelPolicySet':
      return { ...facts, policy: (event.data as ModelPolicySet['data']).policy };
    case 'ModelServingVersionChanged': {
      const { version, previousVersion } = event.data as ModelServingVersionChanged['data'];
      // The same version deployed again: nothing was superseded and the rollback target stays.
      if (previousVersion === version) return facts;
      let next: ModelFacts = {
        ...facts,
        servingVersion: version,
        servingSince: event.occurredAt,
        rollbackTarget: previousVersion ?? facts.rollbackTarget,
      };
      if (previousVersion !== null) {
        next = updateVersion(next, previousVersion, (v) => ({ ...v, supersededAt: event.occurredAt, supersededBy: version }));
      }
      return updateVersion(next, version, (v) => ({ ...v, everServed: true, supersededAt: null, supersededBy: null }));
    }
    default:
      return facts;
  }
};

const evolveVersionStream = (facts: ModelFacts, version: number, event: FactEvent): ModelFacts => {
  const at = event.occurredAt;
  switch (event.type) {
    case 'ModelVersionRegistered': {
      if (versionFacts(facts, version)) return facts;
      const registered: VersionFacts = {
        version,
        stage: 'None',
        stageSince: at,
        registeredAt: at,
        listedSince: at,
        everServed: false,
        serving: false,
        supersededAt: null,
        supersededBy: null,
        pendingApprovals: [],
        deploymentsInFlight: [],
      };
      return { ...facts, versions: facts.versions.with(registered) };
    }
    case 'StageTransitioned': {
      const { fromStage, toStage } = event.data as StageTransitioned['data'];
      return updateVersion(facts, version, (v) => ({
        ...v,
        stage: toStage,
        stageSince: at,
        listedSince: fromStage === 'Archived' && toStage !== 'Archived' ? at : v.listedSince,
      }));
    }
    case 'ApprovalRequested': {
      const { approvalId, afterTheFact } = event.data as ApprovalRequested['data'];
      // The registry's "approval pending" ignores after-the-fact reviews; so does this.
      if (afterTheFact) return facts;
      return updateVersion(facts, version, (v) => ({ ...v, pendingApprovals: [...without(v.pendingApprovals, approvalId), approvalId] }));
    }
    case 'ApprovalQuorumReached':
    case 'ApprovalRejected':
    case 'ApprovalExpired': {
      const { approvalId } = event.data as (ApprovalQuorumReached | ApprovalRejected | ApprovalExpired)['data'];
      return updateVersion(facts, version, (v) => ({ ...v, pendingApprovals: without(v.pendingApprovals, approvalId) }));
    }
    case 'ApprovalEvidenceChanged': {
      const { approvalId, outcome } = event.data as ApprovalEvidenceChanged['data'];
      if (outcome !== 'closed') return facts;
      return updateVersion(facts, version, (v) => ({ ...v, pendingApprovals: without(v.pendingApprovals, approvalId) }));
    }
    case 'DeploymentRequested': {
      const { deploymentId } = event.data as DeploymentRequested['data'];
      return updateVersion(facts, version, (v) => ({ ...v, deploymentsInFlight: [...without(v.deploymentsInFlight, deploymentId), deploymentId] }));
    }
    case 'DeploymentSucceeded':
    case 'DeploymentFailed': {
      const { deploymentId } = event.data as (DeploymentSucceeded | DeploymentFailed)['data'];
      const succeeded = event.type === 'DeploymentSucceeded';
      return updateVersion(facts, version, (v) => ({
        ...v,
        deploymentsInFlight: without(v.deploymentsInFlight, deploymentId),
        serving: v.serving || succeeded,
        everServed: v.everServed || succeeded,
      }));
    }
    case 'ServingEnded':
      return updateVersion(facts, version, (v) => ({ ...v, serving: false }));
    default:
      return facts;
  }
};

/**
 * Folds one registry event into a model's facts. Events of other models and event types the
 * rules do not need leave the facts as they are, so the whole log may be fed through.
 */
export const evolveModelFacts = (facts: ModelFacts, event: FactEvent): ModelFacts => {
  if (event.streamName === modelStream(facts.model)) return evolveModelStream(facts, event);
  const stream = parseModelVersionStream(event.streamName);
  if (!stream || stream.model !== facts.model) return facts;
  return evolveVersionStream(facts, stream.version, event);
};

/** Folds a model's events, oldest first. */
export const foldModelFacts = (model: string, events: readonly FactEvent[]): ModelFacts =>
  events.reduce(evolveModelFacts, emptyModelFacts(model));
