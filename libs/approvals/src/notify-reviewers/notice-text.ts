import type { Actor, GateCheck } from '@mrw/contracts';
import type { ApprovalNotice, DeploymentFailedNotice, KeyMetric, LiveMetricBreachedNotice, NoticeLinks } from './approval-notice';

/** The words every channel uses, so an email, a Slack message and a Teams card say the same thing. */

/** What is being decided: `churn v7 → Production`, or `rollback of churn to v5`. */
export const requestLabel = (notice: ApprovalNotice): string =>
  notice.purpose === 'rollback' ? `rollback of ${notice.model} to v${notice.version}` : `${notice.model} v${notice.version} → ${notice.targetStage}`;

/** One line saying why this notice was sent. */
export const headline = (notice: ApprovalNotice): string => {
  const label = requestLabel(notice);
  switch (notice.kind) {
    case 'approval-requested':
      return notice.afterTheFact ? `Review needed: emergency ${label}` : `Approval needed: ${label}`;
    case 'reminder':
      return `Reminder, approval needed: ${label}`;
    case 'escalation':
      return `Escalation: ${label} is half-way to expiry without a decision`;
    case 'expired':
      return `Expired: nobody decided on ${label} in time`;
    case 'voided':
      return `Evidence changed: approvals of ${label} are void`;
    case 'gate-refused':
      return `Refused by the automated gates: ${label}`;
    case 'deployment-failed':
      return `Deployment failed: ${label}`;
    case 'live-metric-breached':
      return `Live metric breached: ${notice.model} v${notice.version} ${notice.metric} ${notice.direction} ${formatNumber(notice.threshold)}`;
    default: {
      const never: never = notice;
      return never;
    }
  }
};

/** The paragraph under the headline: what happened and what the reader may do. */
export const summary = (notice: ApprovalNotice): string => {
  const by = actorLabel(notice.requester);
  switch (notice.kind) {
    case 'approval-requested':
    case 'reminder':
    case 'escalation':
      return `${by} asks for ${requestLabel(notice)}. ${notice.collected} of ${notice.required} approval${notice.required === 1 ? '' : 's'} so far; the request expires ${formatTime(notice.expiresAt)}.`;
    case 'expired':
      return `The request by ${by} expired ${formatTime(notice.expiresAt)}; the version is no longer blocked and may be requested again.`;
    case 'voided':
      return notice.outcome === 'reopened'
        ? `${notice.reason}. The approvals collected so far no longer count; the request is open again on the new evidence until ${formatTime(notice.expiresAt)}.`
        : `${notice.reason}. The request is closed: on the new evidence it no longer passes the automated gates.`;
    case 'gate-refused':
      return `Your request for ${requestLabel(notice)} did not open an approval: the automated checks below failed. No reviewer was asked.`;
    case 'deployment-failed': {
      const what = notice.purpose === 'rollback' ? `The rollback of ${notice.model} to v${notice.version}` : `The deployment of ${notice.model} v${notice.version}`;
      const reason = clip(notice.reason.trim().replace(/[.\s]+$/, ''), 1_000);
      return `${what} failed on ${notice.environment} (${notice.target}): ${reason}. ${servingLabel(notice)}; v${notice.version} went back to ${notice.returnedTo}.`;
    }
    case 'live-metric-breached': {
      const { window } = notice;
      const then = notice.rollbackRequested
        ? 'The registry requested a rollback to the version that served before, under the rollback policy.'
        : 'No rollback was requested: it keeps serving until someone acts.';
      return (
        `The live ${notice.metric} of ${notice.model} v${notice.version}, which serves, stayed ${notice.direction} ${formatNumber(notice.threshold)} ` +
        `for ${window.for}, from ${formatTime(window.from)} to ${formatTime(window.to)}. ${then}`
      );
    }
    default: {
      const never: never = notice;
      return never;
    }
  }
};

export const actorLabel = (actor: Actor): string => (actor.kind === 'service' ? `${actor.id} (service)` : actor.id);

/** `2026-03-04 10:00 UTC`: one unambiguous form for every reader's time zone. */
export const formatTime = (iso: string): string => {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
};

/** A metric value: four decimals (metrics live in [0, 1] or near it), scientific when tiny. */
export const formatNumber = (value: number): string => {
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && Math.abs(value) < 0.0001) return value.toExponential(2);
  return value.toFixed(4);
};

/** A difference, always signed. */
export const formatSigned = (value: number): string => (value >= 0 ? `+${formatNumber(value)}` : formatNumber(value));

/** `95% CI [+0.0100, +0.0340]` */
export const formatCi = (ci: NonNullable<KeyMetric['ci']>): string =>
  `${Math.round(ci.level * 100)}% CI [${formatSigned(ci.lower)}, ${formatSigned(ci.upper)}]`;

/** `0.9120 vs 0.8900: +0.0220, 95% CI [+0.0100, +0.0340]`, or the candidate's value alone. */
export const metricSummary = (metric: KeyMetric): string => {
  if (metric.champion === undefined) return formatNumber(metric.candidate);
  const difference = metric.difference ?? metric.candidate - metric.champion;
  return `${formatNumber(metric.candidate)} vs ${formatNumber(metric.champion)}: ${formatSigned(difference)}${metric.ci ? `, ${formatCi(metric.ci)}` : ''}`;
};

export const datasetLabel = (notice: ApprovalNotice): string =>
  notice.evidence.dataset ? `${notice.evidence.dataset.name} @ ${notice.evidence.dataset.digest}` : 'no evaluation set';

export const championLabel = (notice: ApprovalNotice): string =>
  notice.evidence.championVersion === null ? 'none (nothing serves yet)' : `v${notice.evidence.championVersion}`;

/** What serves after a failed deployment: the champion, which kept serving, or nothing. */
export const servingLabel = (notice: DeploymentFailedNotice): string =>
  notice.servingVersion === null ? `No version of ${notice.model} serves (none did before)` : `The champion v${notice.servingVersion} keeps serving`;

/** The first facts of every notice: what it is about, and who asked (or, for a breach, who reported it). */
export const headFacts = (notice: ApprovalNotice): ReadonlyArray<readonly [string, string]> =>
  notice.kind === 'live-metric-breached'
    ? [
        ['Model', notice.model],
        ['Version', `v${notice.version} (serving)`],
        ['Reported by', notice.requester.id],
      ]
    : [
        ['Model', notice.model],
        ['Version', `v${notice.version}`],
        ['Target stage', `${notice.targetStage}${notice.purpose === 'rollback' ? ' (rollback)' : ''}`],
        ['Requested by', notice.requester.id],
      ];

/** A breach's figures: the metric, its threshold and the window's samples. */
const breachFacts = (notice: LiveMetricBreachedNotice): ReadonlyArray<readonly [string, string]> => [
  ['Metric', notice.metric],
  ['Threshold', `${notice.direction} ${formatNumber(notice.threshold)}`],
  ['Window', `${notice.window.for}: ${formatTime(notice.window.from)} to ${formatTime(notice.window.to)}`],
  ['Samples', String(notice.window.samples)],
  ['Worst', formatNumber(notice.window.worst)],
  ['Mean', formatNumber(notice.window.mean)],
  ['Rollback', notice.rollbackRequested ? 'requested' : 'not requested'],
];

/**
 * The facts a notice shows under the request's: the evidence it stands on, or for a failed
 * deployment where it was to serve, why it failed, what serves and where the candidate went.
 */
export const noticeFacts = (notice: ApprovalNotice): ReadonlyArray<readonly [string, string]> => {
  if (notice.kind === 'live-metric-breached') return breachFacts(notice);
  return notice.kind === 'deployment-failed'
    ? [
        ['Environment', notice.environment],
        ['Target', notice.target],
        ['Reason', notice.reason],
        ['Serving', notice.servingVersion === null ? 'none' : `v${notice.servingVersion} (the champion, unchanged)`],
        ['Candidate', `v${notice.version}, back in ${notice.returnedTo}`],
        ['Deployment id', notice.deploymentId],
      ]
    : [
        ['Evaluation set', datasetLabel(notice)],
        ['Champion', championLabel(notice)],
      ];
};

/** A link that opens (never decides) what a notice is about: `label` for a button, `title` for a sentence. */
export interface OpenLink {
  readonly label: string;
  readonly title: string;
  readonly url: string;
}

/** What a reader may open: the approval, or for a failed deployment the deployment and the version. */
export const openLinks = (notice: ApprovalNotice, links: NoticeLinks): readonly OpenLink[] => {
  if (notice.kind === 'live-metric-breached') return [{ label: 'Version', title: 'View the version', url: links.view }];
  return notice.kind === 'deployment-failed'
    ? [
        { label: 'Deployment', title: 'View the deployment', url: links.view },
        ...(isWebUrl(notice.versionLink) ? [{ label: 'Version', title: 'View the version', url: notice.versionLink }] : []),
      ]
    : [{ label: 'View', title: 'View the approval in the registry', url: links.view }];
};

/** `PASS accuracy threshold: 0.912 ≥ 0.85` */
export const checkLine = (check: GateCheck): string => `${check.passed ? 'PASS' : 'FAIL'} ${check.metric} ${check.rule}: ${check.detail}`;

/** The checks a reader should see: the failing ones for a refusal, all of them otherwise. */
export const checksToShow = (notice: ApprovalNotice): readonly GateCheck[] =>
  notice.kind === 'gate-refused' ? notice.checks.filter((c) => !c.passed) : notice.checks;

/** The links as given, when each is an http(s) URL; anything else is not offered as a link. */
export const safeLinks = (links: NoticeLinks | undefined): NoticeLinks | undefined => {
  if (!links) return undefined;
  return [links.approve, links.reject, links.view].every(isWebUrl) ? links : undefined;
};

export const isWebUrl = (value: string): boolean => {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
};

/** A user-given text cut to `max` characters, so one long comment cannot break a channel's size limits. */
export const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
