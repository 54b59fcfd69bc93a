import type { GateCheck } from '@mrw/contracts';
import type { ModelVersion, TransitionRequest } from './api-types';
import { MrwApiError, MrwConnectionError } from './mrw-errors';
import type { MrwApi } from './mrw-api';

/** How a request ended, in the terms a CI job acts on. */
export type RequestOutcome =
  | { readonly kind: 'succeeded'; readonly request: TransitionRequest; readonly version: ModelVersion }
  /** Refused by the gates, rejected or left to expire by reviewers, or (Staging) an evaluation whose verdict failed. */
  | { readonly kind: 'refused'; readonly request: TransitionRequest; readonly version: ModelVersion; readonly reasons: readonly string[]; readonly checks: readonly GateCheck[] }
  /** The evaluation or the deployment failed. */
  | { readonly kind: 'failed'; readonly request: TransitionRequest; readonly version: ModelVersion; readonly reason: string };

export type WaitResult = RequestOutcome | { readonly kind: 'timed-out'; readonly request: TransitionRequest; readonly version: ModelVersion };

const failing = (checks: readonly GateCheck[] | undefined): GateCheck[] => (checks ?? []).filter((c) => !c.passed);

/**
 * Where a request stands: its outcome once it has ended, undefined while it is in flight. A request
 * to Staging "completes" when its evaluation finishes, whatever the verdict; here a failed verdict
 * counts as refused (a request for Production would be refused on it) and a failed evaluation as
 * failed, because that is what the job that asked for Staging needs to know.
 */
export const requestOutcome = (version: ModelVersion, requestId: string): RequestOutcome | undefined => {
  const request = version.requests.find((r) => r.id === requestId);
  if (!request) throw new Error(`${version.model}@${version.version} has no request ${requestId}`);
  switch (request.status) {
    case 'evaluating':
    case 'awaiting-approval':
    case 'deploying':
      return undefined;
    case 'completed': {
      const evaluation = request.evaluationId ? version.evaluations.find((e) => e.id === request.evaluationId) : undefined;
      if (evaluation?.status === 'failed') {
        return { kind: 'failed', request, version, reason: `evaluation failed${evaluation.code ? ` (${evaluation.code})` : ''}: ${evaluation.reason ?? 'no reason recorded'}` };
      }
      if (evaluation?.verdict && !evaluation.verdict.passed) {
        const checks = failing(evaluation.verdict.checks);
        return { kind: 'refused', request, version, checks, reasons: checks.map((c) => c.detail) };
      }
      return { kind: 'succeeded', request, version };
    }
    case 'refused': {
      const checks = failing(request.checks);
      return { kind: 'refused', request, version, checks, reasons: request.reasons ?? checks.map((c) => c.detail) };
    }
    case 'rejected': {
      const rejection = version.approvals.find((a) => a.id === request.approvalId)?.rejection;
      const reason = rejection
        ? `rejected by ${rejection.by.id}${rejection.comment ? `: ${rejection.comment}` : ''}`
        : 'rejected by a reviewer';
      return { kind: 'refused', request, version, checks: [], reasons: [reason] };
    }
    case 'expired': {
      const approval = version.approvals.find((a) => a.id === request.approvalId);
      return { kind: 'refused', request, version, checks: [], reasons: [`the approval expired${approval ? ` at ${approval.expiresAt}` : ''} without a decision`] };
    }
    case 'failed': {
      const deployment = version.deployments.find((d) => d.id === request.deploymentId);
      return { kind: 'failed', request, version, reason: `deployment failed: ${deployment?.reason ?? 'no reason recorded'}` };
    }
    default: {
      const unknown: never = request.status;
      throw new Error(`unknown request status ${String(unknown)}`);
    }
  }
};

export interface WaitOptions {
  readonly timeoutMs: number;
  /** Between two reads of the version; default 1 s. */
  readonly intervalMs?: number;
  /** Each read while the request is in flight (and the last one). */
  readonly onUpdate?: (version: ModelVersion, request: TransitionRequest) => void;
}

const transient = (error: unknown): boolean =>
  error instanceof MrwConnectionError || (error instanceof MrwApiError && [502, 503, 504].includes(error.status));

/**
 * Follows a request until it ends or `timeoutMs` passes, reading the version once per interval.
 * The registry going away for a moment (connection refused, 502–504) is waited out until the deadline.
 */
export const waitForRequest = async (client: MrwApi, model: string, version: number, requestId: string, options: WaitOptions): Promise<WaitResult> => {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 1000;
  let last: { version: ModelVersion; request: TransitionRequest } | undefined;
  for (;;) {
    try {
      const state = await client.getVersion(model, version);
      const outcome = requestOutcome(state, requestId);
      const request = state.requests.find((r) => r.id === requestId) as TransitionRequest;
      last = { version: state, request };
      options.onUpdate?.(state, request);
      if (outcome) return outcome;
    } catch (error) {
      if (!transient(error) || Date.now() >= deadline) throw error;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      if (!last) throw new Error(`no answer from the registry within ${options.timeoutMs} ms`);
      return { kind: 'timed-out', ...last };
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, left)));
  }
};
