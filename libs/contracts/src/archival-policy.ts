import { parseDuration } from './duration';
import { LIVE_METRIC_NAME_PATTERN, type ModelPolicy } from './lifecycle';

/**
 * The rules of a policy's archival part: the registry checks them when a policy is set (422
 * `INVALID_POLICY`), the archival service when a proposed policy is backtested, so a policy
 * one of them took never means something else to the other.
 */
export interface ArchivalPolicyProblem {
  /** `archival.<field>` */
  readonly field: string;
  readonly message: string;
}

const isPositiveDuration = (value: unknown): boolean => {
  const ms = typeof value === 'string' ? parseDuration(value) : undefined;
  return ms !== undefined && ms > 0;
};

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** What is wrong with a policy's archival part: positive ISO 8601 durations, a positive count, one live-metric threshold. */
export const archivalPolicyProblems = (policy: ModelPolicy): ArchivalPolicyProblem[] => {
  const problems: ArchivalPolicyProblem[] = [];
  const problem = (field: string, message: string): void => {
    problems.push({ field: field ? `archival.${field}` : 'archival', message });
  };
  const archival: unknown = policy.archival;
  if (archival === undefined) return problems;
  if (!isObject(archival)) {
    problem('', 'must be an object');
    return problems;
  }
  const days = archival['supersededAfterDays'];
  if (days !== undefined && (typeof days !== 'number' || !Number.isInteger(days) || days < 0)) {
    problem('supersededAfterDays', 'must be a whole number of days, 0 or more');
  }
  if (archival['supersededAfter'] !== undefined) {
    if (!isPositiveDuration(archival['supersededAfter'])) problem('supersededAfter', 'must be a positive ISO 8601 duration such as P30D or PT5S');
    // Two spellings of one rule: which one wins would be a guess.
    if (days !== undefined) problem('supersededAfter', 'give supersededAfter or supersededAfterDays, not both');
  }
  if (archival['staleAfter'] !== undefined && !isPositiveDuration(archival['staleAfter'])) {
    problem('staleAfter', 'must be a positive ISO 8601 duration such as P90D or PT5S');
  }
  const keep = archival['keepAtMost'];
  if (keep !== undefined && (typeof keep !== 'number' || !Number.isInteger(keep) || keep < 1)) problem('keepAtMost', 'must be a whole number, 1 or more');
  for (const flag of ['keepRollbackTarget', 'archivePreviousOnSuccess']) {
    if (archival[flag] !== undefined && typeof archival[flag] !== 'boolean') problem(flag, 'must be true or false');
  }
  const rule = archival['liveMetric'];
  if (rule === undefined) return problems;
  if (!isObject(rule)) {
    problem('liveMetric', 'must be an object {metric, below|above, for, minSamples?, rollback?}');
    return problems;
  }
  if (typeof rule['metric'] !== 'string' || !LIVE_METRIC_NAME_PATTERN.test(rule['metric'])) {
    problem('liveMetric.metric', 'must be a metric name: a letter or _, then letters, digits, _ . : - (at most 128)');
  }
  const bounds = ['below', 'above'].filter((key) => rule[key] !== undefined);
  if (bounds.length !== 1) problem('liveMetric', 'give exactly one of below and above');
  for (const key of bounds) {
    const value = rule[key];
    if (typeof value !== 'number' || !Number.isFinite(value)) problem(`liveMetric.${key}`, 'must be a finite number');
  }
  if (!isPositiveDuration(rule['for'])) problem('liveMetric.for', 'must be a positive ISO 8601 duration such as PT1H or PT5S');
  const minSamples = rule['minSamples'];
  if (minSamples !== undefined && (typeof minSamples !== 'number' || !Number.isInteger(minSamples) || minSamples < 1)) {
    problem('liveMetric.minSamples', 'must be a whole number, 1 or more');
  }
  if (rule['rollback'] !== undefined && typeof rule['rollback'] !== 'boolean') problem('liveMetric.rollback', 'must be true or false');
  return problems;
};
