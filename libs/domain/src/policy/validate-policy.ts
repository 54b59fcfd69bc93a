import { METRIC_NAMES, ROLES, type ModelPolicy } from '@mrw/contracts';
import { parseDuration } from '../shared/duration';

export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Checks what a schema cannot: known metric names, sensible rules, parseable durations. */
export const validatePolicy = (policy: ModelPolicy): FieldProblem[] => {
  const problems: FieldProblem[] = [];
  const problem = (field: string, message: string): void => {
    problems.push({ field, message });
  };
  const evaluation = policy.evaluation;
  if (evaluation) {
    for (const [metric, rule] of Object.entries(evaluation.thresholds ?? {})) {
      const field = `evaluation.thresholds.${metric}`;
      if (!METRIC_NAMES.includes(metric)) {
        problem(field, `unknown metric ${metric}; known: ${METRIC_NAMES.join(', ')}`);
      }
      const numbers = ['threshold', 'minAbsoluteChange', 'minRelativeChange'] as const;
      const present = numbers.filter((key) => rule[key] !== undefined);
      if (present.length === 0) problem(field, 'give at least one of threshold, minAbsoluteChange, minRelativeChange');
      for (const key of present) {
        if (!isFiniteNumber(rule[key])) problem(`${field}.${key}`, 'must be a finite number');
      }
      if (rule.requireConfidenceBound && rule.minAbsoluteChange === undefined && rule.minRelativeChange === undefined) {
        problem(`${field}.requireConfidenceBound`, 'applies to change rules: add minAbsoluteChange or minRelativeChange');
      }
    }
    if (evaluation.setVersion !== undefined && !/^sha256:[0-9a-f]{64}$/.test(evaluation.setVersion)) {
      problem('evaluation.setVersion', 'must be a digest sha256:<64 hex>');
    }
  }
  for (const [purpose, rule] of Object.entries(policy.approval ?? {})) {
    if (!rule) continue;
    const field = `approval.${purpose}`;
    if (!Number.isInteger(rule.required) || rule.required < 0 || rule.required > 20) {
      problem(`${field}.required`, 'must be an integer from 0 to 20');
    }
    if (rule.reviewers.length === 0 && rule.required > 0) problem(`${field}.reviewers`, 'name at least one reviewer group');
    for (const entry of rule.reviewers) {
      const roleOk = entry.startsWith('role:') && (ROLES as readonly string[]).includes(entry.slice(5));
      const userOk = /^user:[^\s:]+$/.test(entry);
      if (!roleOk && !userOk) problem(`${field}.reviewers`, `${entry} is neither role:<${ROLES.join('|')}> nor user:<subject>`);
    }
    const ms = parseDuration(rule.expiresIn);
    if (ms === undefined || ms <= 0) problem(`${field}.expiresIn`, 'must be a positive ISO 8601 duration such as P3D or PT12H');
  }
  policy.deployment?.targets.forEach((target, i) => {
    if (!target.kind) problem(`deployment.targets[${i}].kind`, 'must not be empty');
    if (!target.environment) problem(`deployment.targets[${i}].environment`, 'must not be empty');
  });
  const days = policy.archival?.supersededAfterDays;
  if (days !== undefined && (!Number.isInteger(days) || days < 0)) {
    problem('archival.supersededAfterDays', 'must be a whole number of days, 0 or more');
  }
  const required = policy.rollback?.required;
  if (required !== undefined && (!Number.isInteger(required) || required < 0 || required > 20)) {
    problem('rollback.required', 'must be an integer from 0 to 20');
  }
  return problems;
};
