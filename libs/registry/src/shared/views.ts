import type { CreatedModel, RegisteredVersion, TransitionRequestView } from '@mrw/domain';
import { redactSecretSettings } from '@mrw/platform';

/** A model as clients see it (GET /models/{name}). */
export const modelView = (model: CreatedModel) => ({
  name: model.name,
  description: model.description,
  tags: model.tags,
  // Sealed channel secrets show as `[encrypted]`; nothing a viewer reads holds one.
  policy: redactSecretSettings(model.policy),
  aliases: model.aliases,
  latestVersion: model.lastVersion,
  servingVersion: model.servingHistory[model.servingHistory.length - 1]?.version ?? null,
  servingHistory: model.servingHistory,
  createdAt: model.createdAt,
  updatedAt: model.updatedAt,
});

/** A version as clients see it (DESIGN section 8, "Version state"). */
export const versionView = (version: RegisteredVersion, aliases: Readonly<Record<string, number>>) => ({
  model: version.model,
  version: version.version,
  stage: version.stage,
  stageSince: version.stageSince,
  serving: version.serving,
  aliases: Object.entries(aliases)
    .filter(([, v]) => v === version.version)
    .map(([alias]) => alias)
    .sort(),
  tags: version.tags,
  source: version.source,
  digest: version.artifactDigest,
  runId: version.runId,
  description: version.description,
  metrics: version.metrics,
  registeredBy: version.registeredBy,
  registeredAt: version.registeredAt,
  updatedAt: version.updatedAt,
  evaluations: version.evaluations.map((e) => ({
    id: e.id,
    status: e.status,
    set: e.set,
    championVersion: e.championVersion,
    requestedAt: e.requestedAt,
    finishedAt: e.finishedAt,
    progress: e.progress,
    metrics: e.metrics,
    comparison: e.comparison,
    verdict: e.verdict,
    details: e.details,
    // How the models are (being) scored: through the shadow deployment or in-process.
    ...(e.shadow ? { shadow: e.shadow } : {}),
    scoring: e.scoring,
    ...(e.reason ? { reason: e.reason, code: e.code } : {}),
  })),
  approvals: version.approvals,
  deployments: version.deployments,
  requests: version.requests.map(requestView),
  // Sustained live-metric breaches while it served (issue 12), with whether a rollback was requested.
  liveMetricBreaches: version.liveMetricBreaches,
});

export const requestView = (request: TransitionRequestView) => ({
  id: request.id,
  kind: request.kind,
  fromStage: request.fromStage,
  toStage: request.toStage,
  status: request.status,
  comment: request.comment,
  requestedBy: request.requestedBy,
  requestedAt: request.requestedAt,
  ...(request.checks.length > 0 ? { checks: request.checks } : {}),
  ...(request.status === 'refused' ? { reasons: request.checks.filter((c) => !c.passed).map((c) => c.detail) } : {}),
  evaluationId: request.evaluationId,
  approvalId: request.approvalId,
  deploymentId: request.deploymentId,
  ...(request.archiveExistingVersions ? { archiveExistingVersions: true } : {}),
});
