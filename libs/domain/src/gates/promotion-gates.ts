import type { ArtifactRef, Evidence, GateCheck, ModelPolicy } from '@mrw/contracts';
import type { RegisteredVersion } from '../model-version/model-version.state';
import { latestEvaluation } from '../model-version/model-version.state';
import { checkThresholds } from './check-thresholds';

/** What the registry knows beyond the version's own stream when it checks the gates. */
export interface GateContext {
  readonly policy: ModelPolicy;
  /** The standard evaluation set's current version (pinned or newest); null when unknown. */
  readonly currentSetDigest: string | null;
  /** The version serving traffic, if any. */
  readonly servingVersion: number | null;
  /**
   * The serving version's artifact, which `EvaluationRequested` carries so the evaluator needs
   * no other read; null when none serves (or the registry did not look it up).
   */
  readonly servingArtifact: ArtifactRef | null;
}

export interface GateOutcome {
  readonly passed: boolean;
  readonly checks: GateCheck[];
  readonly evidence: Evidence;
}

const evidenceCheck = (rule: string, passed: boolean, detail: string): GateCheck => ({
  metric: rule === 'champion' ? 'champion' : 'evaluation',
  rule,
  passed,
  detail,
});

/**
 * Rule 3: a promotion to Production needs a completed evaluation of this version on the
 * current standard set, against the serving champion, meeting the model's thresholds.
 */
export const checkPromotionGates = (version: RegisteredVersion, context: GateContext): GateOutcome => {
  const champion =
    context.servingVersion !== null && context.servingVersion !== version.version ? context.servingVersion : null;
  const policy = context.policy.evaluation;
  if (!policy) {
    return {
      passed: true,
      checks: [evidenceCheck('policy', true, 'the model has no evaluation policy: no automated gate applies')],
      evidence: { evaluationId: null, datasetDigest: null, championVersion: champion },
    };
  }
  const evaluation = latestEvaluation(version);
  const evidence: Evidence = {
    evaluationId: evaluation?.id ?? null,
    datasetDigest: evaluation?.set.digest ?? null,
    championVersion: champion,
  };
  if (!evaluation) {
    const check = evidenceCheck('completed', false, 'this version has not been evaluated: move it to Staging first');
    return { passed: false, checks: [check], evidence };
  }
  if (evaluation.status !== 'completed') {
    const detail =
      evaluation.status === 'running'
        ? `evaluation ${evaluation.id} is still running`
        : `evaluation ${evaluation.id} failed: ${evaluation.reason ?? 'no reason recorded'}`;
    return { passed: false, checks: [evidenceCheck('completed', false, detail)], evidence };
  }
  const checks: GateCheck[] = [evidenceCheck('completed', true, `evaluation ${evaluation.id} completed`)];
  const setMatches =
    evaluation.set.name === policy.set &&
    (context.currentSetDigest === null || evaluation.set.digest === context.currentSetDigest);
  checks.push(
    evidenceCheck(
      'current-set',
      setMatches,
      setMatches
        ? `evaluated on ${policy.set} ${evaluation.set.digest ?? ''}`.trim()
        : `evaluated on ${evaluation.set.name} ${evaluation.set.digest ?? ''}, but the standard set is now ${policy.set} ${context.currentSetDigest ?? ''}: re-evaluate`.replace(/\s+/g, ' '),
    ),
  );
  const comparedWith = evaluation.comparison?.championVersion ?? null;
  const championMatches = champion === null || comparedWith === champion;
  checks.push(
    evidenceCheck(
      'champion',
      championMatches,
      champion === null
        ? 'no champion serves: absolute thresholds alone decide'
        : championMatches
          ? `compared with serving champion v${champion} on the same rows`
          : `compared with ${comparedWith === null ? 'no champion' : `v${comparedWith}`}, but v${champion} serves now: re-evaluate`,
    ),
  );
  checks.push(
    ...checkThresholds(policy.thresholds ?? {}, evaluation.metrics, champion === null ? null : evaluation.comparison),
  );
  return { passed: checks.every((c) => c.passed), checks, evidence };
};

export const sameEvidence = (a: Evidence, b: Evidence): boolean =>
  a.evaluationId === b.evaluationId && a.datasetDigest === b.datasetDigest && a.championVersion === b.championVersion;
