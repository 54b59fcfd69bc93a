import type { SentRequest } from '../deployment-targets/deployment-target';

/**
 * The deployer's own record of one deployment, in its private stream `deploymentRun-<id>`:
 * what it sent to each target, each target's outcome, and the one conclusion it reports to the
 * registry. Pure: the events and their fold.
 */

/**
 * A trigger is about to be sent (recorded before each send): after a crash, an attempt with no
 * `DeploymentTargetTriggered` is one whose request may have left, which a target able to look
 * for what it started (GitHub's workflow runs) checks before sending again.
 */
export interface TargetAttempted {
  readonly type: 'DeploymentTargetAttempted';
  readonly data: { readonly deploymentId: string; readonly target: number };
}

/** A target accepted the trigger (recorded right after its answer, before anything is reported). */
export interface TargetTriggered {
  readonly type: 'DeploymentTargetTriggered';
  readonly data: {
    readonly deploymentId: string;
    readonly target: number;
    readonly kind: string;
    readonly environment: string;
    readonly sent: SentRequest | null;
    readonly response: { readonly status: number; readonly answer: string } | null;
  };
}

/** A target's outcome: from its callback (the token's single use), from the target itself, or its refusal of the trigger. */
export interface TargetReported {
  readonly type: 'DeploymentTargetReported';
  readonly data: {
    readonly deploymentId: string;
    readonly target: number;
    readonly outcome: 'succeeded' | 'failed';
    readonly via: 'callback' | 'target' | 'trigger';
    readonly endpoint: string | null;
    readonly message: string | null;
    readonly sent?: SentRequest | null;
  };
}

/** What the deployer reports to the registry, decided once. */
export interface RunConcluded {
  readonly type: 'DeploymentConcluded';
  readonly data: {
    readonly deploymentId: string;
    readonly outcome: 'succeeded' | 'failed';
    readonly endpoint: string | null;
    readonly reason: string | null;
  };
}

export type RunEvent = TargetAttempted | TargetTriggered | TargetReported | RunConcluded;
export const RUN_EVENT_TYPES: ReadonlyArray<RunEvent['type']> = [
  'DeploymentTargetAttempted',
  'DeploymentTargetTriggered',
  'DeploymentTargetReported',
  'DeploymentConcluded',
];

export interface TargetRun {
  /** When sends were attempted: the first and the latest, and how many. */
  readonly attempted: { readonly first: string; readonly last: string; readonly count: number } | null;
  readonly triggered: (TargetTriggered['data'] & { readonly at: string }) | null;
  readonly reported: (TargetReported['data'] & { readonly at: string }) | null;
}

export interface RunState {
  /** Revision of the run's stream, -1 before its first event: the expected revision of the next append. */
  readonly revision: number;
  readonly targets: ReadonlyMap<number, TargetRun>;
  readonly concluded: (RunConcluded['data'] & { readonly at: string }) | null;
}

export const emptyRun: RunState = { revision: -1, targets: new Map(), concluded: null };

const NO_TARGET: TargetRun = { attempted: null, triggered: null, reported: null };

/** One target's record (empty if nothing happened to it yet). */
export const targetRun = (state: RunState, target: number): TargetRun => state.targets.get(target) ?? NO_TARGET;

/** Folds one recorded event; unknown types are skipped (a newer deployer's events). */
export const evolveRun = (state: RunState, event: { type: string; data: unknown; revision: number; at: string }): RunState => {
  const next = { ...state, revision: event.revision };
  const at = event.at;
  switch (event.type as RunEvent['type']) {
    case 'DeploymentTargetAttempted': {
      const data = event.data as TargetAttempted['data'];
      const before = targetRun(state, data.target);
      const targets = new Map(state.targets);
      const attempted = before.attempted ? { ...before.attempted, last: at, count: before.attempted.count + 1 } : { first: at, last: at, count: 1 };
      targets.set(data.target, { ...before, attempted });
      return { ...next, targets };
    }
    case 'DeploymentTargetTriggered': {
      const data = event.data as TargetTriggered['data'];
      const targets = new Map(state.targets);
      targets.set(data.target, { ...targetRun(state, data.target), triggered: { ...data, at } });
      return { ...next, targets };
    }
    case 'DeploymentTargetReported': {
      const data = event.data as TargetReported['data'];
      const targets = new Map(state.targets);
      targets.set(data.target, { ...targetRun(state, data.target), reported: { ...data, at } });
      return { ...next, targets };
    }
    case 'DeploymentConcluded':
      return { ...next, concluded: { ...(event.data as RunConcluded['data']), at } };
    default:
      return next;
  }
};

/** A target of the deployment, as the conclusion needs it. */
export interface PlannedTarget {
  readonly kind: string;
  readonly environment: string;
}

/**
 * The conclusion a new report leads to, if any: the first failed target fails the deployment
 * (rule 4.7 takes over in the registry); it succeeds once every target reported success, with
 * the first endpoint a target gave.
 */
export const conclusionAfter = (state: RunState, deploymentId: string, targets: readonly PlannedTarget[]): RunConcluded | undefined => {
  if (state.concluded) return undefined;
  const reports = targets.map((_, i) => targetRun(state, i).reported);
  const failedAt = reports.findIndex((r) => r?.outcome === 'failed');
  if (failedAt >= 0) {
    const failed = reports[failedAt];
    const target = targets[failedAt] as PlannedTarget;
    return {
      type: 'DeploymentConcluded',
      data: {
        deploymentId,
        outcome: 'failed',
        endpoint: null,
        reason: `${target.kind} (${target.environment}): ${failed?.message ?? 'failed'}`,
      },
    };
  }
  if (reports.length === 0 || reports.some((r) => r === null)) return undefined;
  const endpoint = reports.find((r) => r?.endpoint)?.endpoint ?? null;
  return { type: 'DeploymentConcluded', data: { deploymentId, outcome: 'succeeded', endpoint, reason: null } };
};
