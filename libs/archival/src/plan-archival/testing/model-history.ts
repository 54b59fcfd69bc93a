import { modelStream, modelVersionStream, type ModelPolicy, type Stage, type TransitionTrigger } from '@mrw/contracts';
import type { FactEvent } from '../archival-facts';
import type { LiveSample } from '../live-metric-windows';

/** The moment the scripted histories start. */
export const T0 = '2026-03-01T00:00:00.000Z';

/** T0 plus some seconds, as ISO 8601. */
export const sec = (seconds: number): string => new Date(Date.parse(T0) + seconds * 1000).toISOString();

/** T0 plus some days, as ISO 8601. */
export const day = (days: number): string => sec(days * 86_400);

/** One ms earlier: "not a tick before". */
export const tickBefore = (at: string): string => new Date(Date.parse(at) - 1).toISOString();

/**
 * A model's history as the registry writes it, event by event, in log order: promotions deploy,
 * succeed, change the serving version and end the previous one's serving, as the registry's
 * service-command handler does.
 */
export class ModelHistory {
  readonly events: FactEvent[] = [];
  private now = T0;
  private serving: number | null = null;
  private readonly stages = new Map<number, Stage>();
  private deployments = 0;

  constructor(readonly model = 'churn') {
    this.onModel('ModelCreated', { model, description: '', tags: {} });
  }

  /** Later events happen at this moment. */
  at(moment: string): this {
    this.now = moment;
    return this;
  }

  policy(policy: ModelPolicy): this {
    return this.onModel('ModelPolicySet', { model: this.model, policy });
  }

  register(version: number): this {
    this.stages.set(version, 'None');
    return this.onVersion(version, 'ModelVersionRegistered', {
      model: this.model,
      version,
      source: `s3://models/${version}`,
      artifactDigest: null,
      runId: null,
      metrics: {},
      tags: {},
      description: '',
      registeredBy: { kind: 'user', id: 'dana' },
    });
  }

  stage(version: number, toStage: Stage, trigger: TransitionTrigger = { kind: 'request', requestId: `r-${version}-${toStage}` }): this {
    const fromStage = this.stages.get(version) ?? 'None';
    this.stages.set(version, toStage);
    return this.onVersion(version, 'StageTransitioned', { fromStage, toStage, trigger });
  }

  requestApproval(version: number, approvalId: string, afterTheFact = false): this {
    return this.onVersion(version, 'ApprovalRequested', {
      approvalId,
      requestId: `r-${approvalId}`,
      purpose: 'promotion',
      targetStage: 'Production',
      rule: { required: 1, reviewers: ['role:reviewer'], expiresIn: 'P7D' },
      requestedBy: { kind: 'user', id: 'dana' },
      expiresAt: day(365),
      evidence: { evaluationId: null, datasetDigest: null, championVersion: null },
      checks: [],
      afterTheFact,
    });
  }

  approvalClosed(version: number, approvalId: string, how: 'ApprovalQuorumReached' | 'ApprovalRejected' | 'ApprovalExpired'): this {
    const data =
      how === 'ApprovalQuorumReached'
        ? { approvalId, approvers: [{ kind: 'user', id: 'rita' }] }
        : how === 'ApprovalRejected'
          ? { approvalId, by: { kind: 'user', id: 'rita' }, comment: 'no' }
          : { approvalId, expiresAt: this.now };
    return this.onVersion(version, how, data);
  }

  evidenceChanged(version: number, approvalId: string, outcome: 'reopened' | 'closed'): this {
    const evidence = { evaluationId: null, datasetDigest: null, championVersion: null };
    return this.onVersion(version, 'ApprovalEvidenceChanged', { approvalId, previous: evidence, current: evidence, voided: [], outcome, checks: [] });
  }

  /** Into Production (or back there, for a rollback) with a deployment that has not reported yet; its id. */
  deploy(version: number, purpose: 'promotion' | 'rollback' = 'promotion'): string {
    this.deployments += 1;
    const deploymentId = `d-${this.deployments}`;
    const previousStage = this.stages.get(version) ?? 'None';
    if (previousStage !== 'Production') {
      this.stage(version, 'Production', purpose === 'rollback' ? { kind: 'rollback', rollbackId: `rb-${deploymentId}` } : { kind: 'request', requestId: `r-${deploymentId}` });
    }
    this.onVersion(version, 'DeploymentRequested', {
      deploymentId,
      requestId: `r-${deploymentId}`,
      idempotencyKey: deploymentId,
      purpose,
      targets: [{ kind: 'local', environment: 'production' }],
      previousStage,
      replacing: this.serving,
    });
    return deploymentId;
  }

  /** The deployment succeeded: the version serves, the previous one ends (archived at once after a rollback, as the registry does). */
  succeed(version: number, deploymentId: string, purpose: 'promotion' | 'rollback' = 'promotion'): this {
    const previous = this.serving;
    this.onVersion(version, 'DeploymentSucceeded', { deploymentId, endpoint: null });
    this.onModel('ModelServingVersionChanged', { model: this.model, version, previousVersion: previous, deploymentId });
    this.serving = version;
    if (previous === null || previous === version) return this;
    this.onVersion(previous, 'ServingEnded', { supersededBy: version, deploymentId, reason: purpose === 'rollback' ? 'rolled-back' : 'superseded' });
    if (purpose === 'rollback') this.stage(previous, 'Archived', { kind: 'archival', rule: 'rolled-back', detail: `v${version} took over serving` });
    return this;
  }

  fail(version: number, deploymentId: string, backTo: Stage): this {
    this.onVersion(version, 'DeploymentFailed', { deploymentId, reason: 'boom' });
    return this.stage(version, backTo, { kind: 'deployment-failed', deploymentId });
  }

  /** Staging → Production → serving, all at this moment. */
  promote(version: number): this {
    if (this.stages.get(version) !== 'Staging') this.stage(version, 'Staging');
    return this.succeed(version, this.deploy(version));
  }

  rollbackTo(version: number): this {
    return this.succeed(version, this.deploy(version, 'rollback'), 'rollback');
  }

  /** What an archival would append (the archival service's command, carried out by the registry). */
  archived(version: number, rule: string): this {
    return this.stage(version, 'Archived', { kind: 'archival', rule, detail: rule });
  }

  /** The events up to and including `moment`. */
  until(moment: string): FactEvent[] {
    return this.events.filter((e) => Date.parse(e.occurredAt) <= Date.parse(moment));
  }

  private onModel(type: string, data: unknown): this {
    this.events.push({ type, data, streamName: modelStream(this.model), occurredAt: this.now });
    return this;
  }

  private onVersion(version: number, type: string, data: unknown): this {
    this.events.push({ type, data, streamName: modelVersionStream(this.model, version), occurredAt: this.now });
    return this;
  }
}

/** Samples of one version's metric: [seconds after T0, value] pairs, count 1 unless given. */
export const samples = (version: number, metric: string, points: ReadonlyArray<readonly [number, number, number?]>): LiveSample[] =>
  points.map(([s, value, count]) => ({ version, metric, value, at: sec(s), count: count ?? 1 }));

/** A samplesOf over a fixed list. */
export const samplesFrom =
  (list: readonly LiveSample[]) =>
  (version: number, metric: string): LiveSample[] =>
    list.filter((s) => s.version === version && s.metric === metric);
