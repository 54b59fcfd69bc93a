import {
  archivalPolicyProblems,
  METRIC_NAMES,
  parseDuration,
  readKServeSettings,
  ROLES,
  type DeploymentTarget,
  type ModelPolicy,
  type NotifyChannel,
} from '@mrw/contracts';
import { aliasProblem } from '../model/model.decider';

export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Setting names that hold a credential. */
const CREDENTIAL_KEY = /password|passwd|secret|token|api[-_]?key|credential|private[-_]?key|authorization|bearer|cookie/i;
/** A reference to a credential: the name of an environment variable of the service that uses it. */
const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;

const hasUserinfo = (value: string): boolean => {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return false;
  try {
    const url = new URL(value);
    return url.username !== '' || url.password !== '';
  } catch {
    return false;
  }
};

const isHttpUrl = (value: string): boolean => {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '';
  } catch {
    return false;
  }
};

/** A notification channel names what it needs once: a secret as a value (sealed when stored) or an environment variable. */
const notifyProblems = (channel: NotifyChannel, field: string): FieldProblem[] => {
  const problems: FieldProblem[] = [];
  const c = channel as Partial<Record<string, unknown>>;
  const oneOf = (value: string, env: string, required: boolean): void => {
    const given = [c[value], c[env]].filter((v) => v !== undefined).length;
    if (given > 1) problems.push({ field: `${field}.${value}`, message: `give ${value} or ${env}, not both` });
    if (required && given === 0) problems.push({ field: `${field}.${value}`, message: `is required (or ${env}, the name of an environment variable)` });
    if (c[env] !== undefined && !(typeof c[env] === 'string' && ENV_NAME.test(c[env] as string))) {
      problems.push({ field: `${field}.${env}`, message: 'must name an environment variable (A-Z, 0-9, _)' });
    }
  };
  const allowed: Record<NotifyChannel['kind'], readonly string[]> = {
    email: [],
    slack: ['webhookUrl', 'webhookUrlEnv'],
    teams: ['webhookUrl', 'webhookUrlEnv'],
    webhook: ['url', 'secret', 'secretEnv'],
  };
  for (const key of Object.keys(c)) {
    if (key !== 'kind' && !(allowed[channel.kind] ?? []).includes(key)) problems.push({ field: `${field}.${key}`, message: `is not a setting of a ${channel.kind} channel` });
  }
  if (channel.kind === 'slack' || channel.kind === 'teams') {
    oneOf('webhookUrl', 'webhookUrlEnv', true);
    if (typeof c['webhookUrl'] === 'string' && !c['webhookUrl'].startsWith('enc:') && c['webhookUrl'] !== '[encrypted]' && !isHttpUrl(c['webhookUrl'])) {
      problems.push({ field: `${field}.webhookUrl`, message: 'must be an http(s) URL without a user or password' });
    }
  }
  if (channel.kind === 'webhook') {
    if (typeof c['url'] !== 'string' || !isHttpUrl(c['url'])) problems.push({ field: `${field}.url`, message: 'must be an http(s) URL without a user or password' });
    oneOf('secret', 'secretEnv', true);
  }
  return problems;
};

/**
 * A policy is readable by every viewer and kept forever in the log, so credentials in it are
 * references only: `<name>Env` names an environment variable of the service that needs it
 * (`tokenEnv: "GITHUB_TOKEN"`); a literal under a credential-like name, or a URL with a
 * user or password in it, is refused.
 */
const credentialProblems = (value: unknown, field: string): FieldProblem[] => {
  if (Array.isArray(value)) return value.flatMap((item, i) => credentialProblems(item, `${field}[${i}]`));
  if (typeof value === 'string') {
    return hasUserinfo(value) ? [{ field, message: 'must not carry a user or password; name an environment variable with a …Env setting instead' }] : [];
  }
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => {
    const at = `${field}.${key}`;
    if (key.endsWith('Env')) {
      return typeof inner === 'string' && ENV_NAME.test(inner) ? [] : [{ field: at, message: 'must name an environment variable (A-Z, 0-9, _)' }];
    }
    if (CREDENTIAL_KEY.test(key) && inner !== null && typeof inner !== 'boolean') {
      return [
        {
          field: at,
          message: `a credential cannot be kept in a policy (every viewer can read it, and the log keeps it forever): put it in an environment variable of the service that uses it and name that variable with ${key}Env`,
        },
      ];
    }
    return credentialProblems(inner, at);
  });
};

/**
 * The settings of a `kserve` target, by the rules the deployer renders its manifest with: names
 * Kubernetes and KServe accept, quantities, a known storage URI template, an https API server.
 * Settings may sit under `settings` or beside `kind`; a problem names the field where it was given.
 */
const kserveProblems = (target: DeploymentTarget, field: string): FieldProblem[] => {
  const { kind: _kind, environment: _environment, settings, ...beside } = target;
  const nested = typeof settings === 'object' && settings !== null && !Array.isArray(settings) ? (settings as Record<string, unknown>) : {};
  return readKServeSettings({ ...beside, ...nested }).problems.map((p) => {
    const top = p.setting.split('.')[0] as string;
    return { field: `${field}${top in nested ? '.settings' : ''}.${p.setting}`, message: p.message };
  });
};

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
    if (rule.remindEvery !== undefined) {
      const every = parseDuration(rule.remindEvery);
      if (every === undefined || every <= 0) problem(`${field}.remindEvery`, 'must be a positive ISO 8601 duration such as P1D');
    }
    if (rule.escalateTo !== undefined && !/^user:[^\s:]+$/.test(rule.escalateTo)) problem(`${field}.escalateTo`, 'must be user:<subject>');
    (rule.notify ?? []).forEach((channel, i) => problems.push(...notifyProblems(channel, `${field}.notify[${i}]`)));
  }
  const timeout = policy.deployment?.timeout;
  if (timeout !== undefined) {
    const ms = parseDuration(timeout);
    if (ms === undefined || ms <= 0) problem('deployment.timeout', 'must be a positive ISO 8601 duration such as PT30M');
  }
  policy.deployment?.targets.forEach((target, i) => {
    if (!target.kind) problem(`deployment.targets[${i}].kind`, 'must not be empty');
    if (!target.environment) problem(`deployment.targets[${i}].environment`, 'must not be empty');
    const credentials = credentialProblems(target, `deployment.targets[${i}]`);
    problems.push(...credentials);
    if (target.kind === 'kserve') {
      // A credential already reported is not reported again as an unknown kserve setting.
      const reported = new Set(credentials.map((p) => p.field));
      problems.push(...kserveProblems(target, `deployment.targets[${i}]`).filter((p) => !reported.has(p.field)));
    }
  });
  problems.push(...archivalPolicyProblems(policy));
  if (policy.servingAlias !== undefined) {
    const invalid = typeof policy.servingAlias === 'string' ? aliasProblem(policy.servingAlias) : 'must be a string';
    if (invalid) problem('servingAlias', invalid);
  }
  const required = policy.rollback?.required;
  if (required !== undefined && (!Number.isInteger(required) || required < 0 || required > 20)) {
    problem('rollback.required', 'must be an integer from 0 to 20');
  }
  return problems;
};
