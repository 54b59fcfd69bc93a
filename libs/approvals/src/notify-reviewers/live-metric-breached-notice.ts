import type { Actor, LiveMetricBreached } from '@mrw/contracts';
import type { LiveMetricBreachedNotice } from './approval-notice';

/** What the approvals service knows of a breach: the registry's `LiveMetricBreached` and where it was recorded. */
export interface LiveMetricBreach {
  /** The event's id: the notice's, from which each delivery derives its own. */
  readonly eventId: string;
  readonly occurredAt: string;
  readonly model: string;
  readonly version: number;
  readonly data: LiveMetricBreached['data'];
  /** Who reported it (the archival service). */
  readonly reportedBy: Actor;
  /** `MRW_PUBLIC_URL`, the base of the links. */
  readonly publicUrl: string;
}

/**
 * The notice of a sustained live-metric breach on the serving version (issue 12): the metric,
 * its threshold and the window's samples, and whether a rollback was requested, with a link to
 * the version. Nothing to decide: a rollback, when requested, opens an approval of its own.
 */
export const liveMetricBreachedNotice = (breach: LiveMetricBreach): LiveMetricBreachedNotice => {
  const { data, model, version } = breach;
  const versionLink = `${breach.publicUrl}/api/v1/models/${model}/versions/${version}`;
  return {
    kind: 'live-metric-breached',
    id: breach.eventId,
    occurredAt: breach.occurredAt,
    model,
    version,
    purpose: 'promotion',
    targetStage: 'Production',
    requester: breach.reportedBy,
    comment: '',
    evidence: { evaluationId: null, dataset: null, championVersion: version },
    keyMetrics: [],
    checks: [],
    links: { approve: versionLink, reject: versionLink, view: versionLink },
    metric: data.metric,
    direction: data.direction,
    threshold: data.threshold,
    window: data.window,
    rollbackRequested: data.rollbackRequested,
    versionLink,
  };
};
