import {
  SCHEMA_VERSION,
  isPrivateStream,
  modelOfStream,
  modelVersionStream,
  parseModelVersionStream,
  type Actor,
  type ApprovalExpired,
  type ApprovalGranted,
  type ApprovalRejected,
  type ApprovalRequested,
  type DeploymentFailed,
  type DeploymentStarted,
  type DeploymentSucceeded,
  type EvaluationCompleted,
  type EvaluationFailed,
  type ModelVersionRegistered,
  type ModelVersionTagSet,
  type ServingEnded,
  type Stage,
  type StageTransitionRequested,
  type StageTransitioned,
  type TransitionTrigger,
} from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';

// Which webhook events one recorded registry event is, and what a subscriber receives for it.
// Pure: no clock, no I/O. The delivery engine decides who gets it; this module only describes.

/** Databricks' registry-webhook names first (same meaning), then the suite's own. */
export const WEBHOOK_EVENT_NAMES = [
  'MODEL_VERSION_CREATED',
  'MODEL_VERSION_TRANSITIONED_STAGE',
  'MODEL_VERSION_TRANSITIONED_TO_STAGING',
  'MODEL_VERSION_TRANSITIONED_TO_PRODUCTION',
  'MODEL_VERSION_TRANSITIONED_TO_ARCHIVED',
  'TRANSITION_REQUEST_CREATED',
  'TRANSITION_REQUEST_TO_STAGING_CREATED',
  'TRANSITION_REQUEST_TO_PRODUCTION_CREATED',
  'TRANSITION_REQUEST_TO_ARCHIVED_CREATED',
  'REGISTERED_MODEL_CREATED',
  'MODEL_VERSION_TAG_SET',
  'COMMENT_CREATED',
  'EVALUATION_COMPLETED',
  'EVALUATION_FAILED',
  'APPROVAL_REQUESTED',
  'APPROVAL_GRANTED',
  'APPROVAL_REJECTED',
  'APPROVAL_EXPIRED',
  'DEPLOYMENT_STARTED',
  'DEPLOYMENT_SUCCEEDED',
  'DEPLOYMENT_FAILED',
  'MODEL_VERSION_ROLLED_BACK',
  'MODEL_VERSION_ARCHIVED',
  'LIVE_METRIC_BREACHED',
] as const;

export type WebhookEventName = (typeof WEBHOOK_EVENT_NAMES)[number];

/** Whether a value is one of WEBHOOK_EVENT_NAMES (for validating a subscription's `events`). */
export const isWebhookEventName = (value: unknown): value is WebhookEventName =>
  typeof value === 'string' && (WEBHOOK_EVENT_NAMES as readonly string[]).includes(value);

/** Longest `text` sent: Slack and Teams post it as is, and a chat line should stay one glance long. */
export const WEBHOOK_TEXT_LIMIT = 300;

/**
 * What a subscriber receives. Databricks' keys (snake_case, `event_timestamp` in epoch ms,
 * `version` as a string) so receivers written for Databricks registry webhooks work unchanged;
 * the rest ties the delivery to our audit trail.
 */
export interface WebhookPayload {
  readonly event: WebhookEventName;
  readonly webhook_id: string;
  readonly event_timestamp: number;
  readonly model_name: string;
  /** Absent for model-level events (REGISTERED_MODEL_CREATED). */
  readonly version?: string;
  /** Only on stage transitions and transition requests. */
  readonly from_stage?: Stage;
  readonly to_stage?: Stage;
  /** One sentence a Slack or Teams incoming webhook can post as is. */
  readonly text: string;
  readonly event_id: string;
  /** The registry's own event type, e.g. `StageTransitioned`. */
  readonly event_type: string;
  readonly stream: string;
  readonly revision: number;
  /** The event's position in the log, as a string: it is a 64-bit integer. */
  readonly position: string;
  readonly occurred_at: string;
  readonly actor: Actor;
  readonly correlation_id: string;
  /** Every name of this event the subscription asked for (`event` is one of them). */
  readonly matched_events: readonly WebhookEventName[];
  /** The event's data as recorded: only published streams get here, so it holds no secrets. */
  readonly data: unknown;
}

/** `LiveMetricBreached`'s data (contracts), read field by field: a webhook text is never worth a failed delivery. */
interface LiveMetricBreachedData {
  readonly metric?: unknown;
  readonly direction?: unknown;
  readonly threshold?: unknown;
  readonly window?: { readonly for?: unknown; readonly samples?: unknown; readonly worst?: unknown; readonly mean?: unknown } | null;
  readonly rollbackRequested?: unknown;
}

const TRANSITIONED_TO: Partial<Record<Stage, WebhookEventName>> = {
  Staging: 'MODEL_VERSION_TRANSITIONED_TO_STAGING',
  Production: 'MODEL_VERSION_TRANSITIONED_TO_PRODUCTION',
  Archived: 'MODEL_VERSION_TRANSITIONED_TO_ARCHIVED',
};
const REQUESTED_TO: Partial<Record<Stage, WebhookEventName>> = {
  Staging: 'TRANSITION_REQUEST_TO_STAGING_CREATED',
  Production: 'TRANSITION_REQUEST_TO_PRODUCTION_CREATED',
  Archived: 'TRANSITION_REQUEST_TO_ARCHIVED_CREATED',
};

const hasText = (value: unknown): value is string => typeof value === 'string' && value.trim().length > 0;
const present = <T>(values: ReadonlyArray<T | undefined | false>): T[] =>
  values.filter((value): value is T => value !== undefined && value !== false);

/**
 * The webhook event names a recorded event matches, most specific first (a subscription to
 * several of them gets one delivery, named after the first it asked for). Empty for events no
 * subscriber can ask for, and always for private streams.
 */
export function webhookNamesOf(event: RecordedEvent): WebhookEventName[] {
  if (isPrivateStream(event.streamName)) return [];
  if (event.streamName.startsWith('model-')) {
    return event.type === 'ModelCreated' ? ['REGISTERED_MODEL_CREATED'] : [];
  }
  if (!parseModelVersionStream(event.streamName)) return [];
  switch (event.type) {
    case 'ModelVersionRegistered':
      return ['MODEL_VERSION_CREATED'];
    case 'StageTransitioned': {
      const { toStage } = event.data as StageTransitioned['data'];
      return present([
        TRANSITIONED_TO[toStage],
        toStage === 'Archived' && 'MODEL_VERSION_ARCHIVED',
        'MODEL_VERSION_TRANSITIONED_STAGE',
      ]);
    }
    case 'StageTransitionRequested': {
      const { toStage, comment } = event.data as StageTransitionRequested['data'];
      return present([REQUESTED_TO[toStage], 'TRANSITION_REQUEST_CREATED', hasText(comment) && 'COMMENT_CREATED']);
    }
    case 'ModelVersionTagSet':
      return ['MODEL_VERSION_TAG_SET'];
    case 'EvaluationCompleted':
      return ['EVALUATION_COMPLETED'];
    case 'EvaluationFailed':
      return ['EVALUATION_FAILED'];
    case 'ApprovalRequested':
      return ['APPROVAL_REQUESTED'];
    case 'ApprovalGranted':
      return present(['APPROVAL_GRANTED', hasText((event.data as ApprovalGranted['data']).comment) && 'COMMENT_CREATED']);
    case 'ApprovalRejected':
      return present(['APPROVAL_REJECTED', hasText((event.data as ApprovalRejected['data']).comment) && 'COMMENT_CREATED']);
    case 'ApprovalExpired':
      return ['APPROVAL_EXPIRED'];
    case 'DeploymentStarted':
      return ['DEPLOYMENT_STARTED'];
    case 'DeploymentSucceeded':
      return ['DEPLOYMENT_SUCCEEDED'];
    case 'DeploymentFailed':
      return ['DEPLOYMENT_FAILED'];
    case 'ServingEnded':
      // A version superseded by a newer one is not news of its own (the newer one's deployment is).
      return (event.data as ServingEnded['data']).reason === 'rolled-back' ? ['MODEL_VERSION_ROLLED_BACK'] : [];
    case 'LiveMetricBreached':
      return ['LIVE_METRIC_BREACHED'];
    default:
      return [];
  }
}

/** The model (and version, for version-level events) an event is about, from its stream name. */
function subjectOf(event: RecordedEvent): { readonly model: string; readonly version: number | null } {
  const version = parseModelVersionStream(event.streamName);
  if (version) return version;
  const model = modelOfStream(event.streamName);
  if (model !== undefined) return { model, version: null };
  // A bug in the caller: only events webhookNamesOf names reach here.
  throw new Error(`stream ${event.streamName} is not a model's or a model version's`);
}

/**
 * The JSON body one subscription receives for one event under `name`; `names` are all the
 * names of this event the subscription asked for.
 */
export function webhookPayload(
  event: RecordedEvent,
  name: WebhookEventName,
  subscriptionId: string,
  names: readonly WebhookEventName[],
): WebhookPayload {
  const { model, version } = subjectOf(event);
  const { metadata } = event;
  return {
    event: name,
    webhook_id: subscriptionId,
    event_timestamp: Date.parse(metadata.occurredAt),
    model_name: model,
    ...(version === null ? {} : { version: String(version) }),
    ...stagesOf(event),
    text: webhookText(event, name),
    event_id: metadata.eventId,
    event_type: event.type,
    stream: event.streamName,
    revision: event.revision,
    position: event.position.toString(),
    occurred_at: metadata.occurredAt,
    actor: { kind: metadata.actor.kind, id: metadata.actor.id },
    correlation_id: metadata.correlationId,
    matched_events: [...names],
    data: event.data,
  };
}

function stagesOf(event: RecordedEvent): { from_stage?: Stage; to_stage?: Stage } {
  if (event.type !== 'StageTransitioned' && event.type !== 'StageTransitionRequested') return {};
  const { fromStage, toStage } = event.data as StageTransitioned['data'] | StageTransitionRequested['data'];
  return { from_stage: fromStage, to_stage: toStage };
}

// ---- text ----------------------------------------------------------------------------

/**
 * One line for chat. Free text from people (comments, reasons, tag values) is flattened to one
 * line, clipped, and its angle brackets replaced: Slack reads `<!channel>` or `<url|label>` in a
 * message as a mention or a link, and a comment must not ping a room or disguise a link. The exact
 * values stay in `data`.
 */
function webhookText(event: RecordedEvent, name: WebhookEventName): string {
  const text = describe(event, name);
  return clip(event.metadata.eventId === SAMPLE_EVENT_ID ? `[test] ${text}` : text, WEBHOOK_TEXT_LIMIT);
}

function describe(event: RecordedEvent, name: WebhookEventName): string {
  const { model, version } = subjectOf(event);
  const subject = version === null ? clean(model) : `${clean(model)} v${version}`;
  const actor = clean(event.metadata.actor.id);
  switch (event.type) {
    case 'ModelCreated':
      return `Model ${subject} created by ${actor}`;
    case 'ModelVersionRegistered': {
      const data = event.data as ModelVersionRegistered['data'];
      const description = hasText(data.description) ? `: ${free(data.description, 120)}` : '';
      return `${subject} registered by ${clean(data.registeredBy?.id ?? actor)}${description}`;
    }
    case 'StageTransitioned': {
      const data = event.data as StageTransitioned['data'];
      return `${subject} moved from ${data.fromStage} to ${data.toStage} (${why(data.trigger, actor)})`;
    }
    case 'StageTransitionRequested': {
      const data = event.data as StageTransitionRequested['data'];
      const by = clean(data.requestedBy?.id ?? actor);
      if (name === 'COMMENT_CREATED') return `${by} commented on ${subject}: ${free(data.comment, 200)}`;
      const comment = hasText(data.comment) ? `: ${free(data.comment, 160)}` : '';
      return `${by} requested ${subject} move from ${data.fromStage} to ${data.toStage}${comment}`;
    }
    case 'ModelVersionTagSet': {
      const data = event.data as ModelVersionTagSet['data'];
      return `${subject}: tag ${free(data.key, 60)} set to ${free(data.value, 160)} by ${actor}`;
    }
    case 'EvaluationCompleted':
      return `${subject}: ${evaluationSummary(event.data as EvaluationCompleted['data'])}`;
    case 'EvaluationFailed': {
      const data = event.data as EvaluationFailed['data'];
      return `${subject}: evaluation failed (${clean(data.code)}): ${free(data.reason, 200)}`;
    }
    case 'ApprovalRequested': {
      const data = event.data as ApprovalRequested['data'];
      const what =
        data.purpose === 'rollback'
          ? data.afterTheFact
            ? 'after-the-fact review requested for an emergency rollback'
            : 'approval requested for a rollback'
          : `approval requested for ${data.targetStage}`;
      const needed = data.rule.required === 1 ? '1 approval' : `${data.rule.required} approvals`;
      return `${subject}: ${what} by ${clean(data.requestedBy.id)} (${needed} needed, expires ${clean(data.expiresAt)})`;
    }
    case 'ApprovalGranted':
    case 'ApprovalRejected': {
      const data = event.data as ApprovalGranted['data'] | ApprovalRejected['data'];
      const by = clean(data.by.id);
      if (name === 'COMMENT_CREATED') return `${by} commented on ${subject}: ${free(data.comment, 200)}`;
      const via = data.channel && data.channel !== 'api' ? ` via ${data.channel}` : '';
      const tally = 'count' in data ? ` (${data.count} of ${data.required})` : '';
      const verb = event.type === 'ApprovalGranted' ? 'approved' : 'rejected';
      const comment = hasText(data.comment) ? `: ${free(data.comment, 160)}` : '';
      return `${subject}: ${by} ${verb}${tally}${via}${comment}`;
    }
    case 'ApprovalExpired': {
      const data = event.data as ApprovalExpired['data'];
      return `${subject}: approval ${clean(data.approvalId)} expired at ${clean(data.expiresAt)} without a decision`;
    }
    case 'DeploymentStarted': {
      const data = event.data as DeploymentStarted['data'];
      return `${subject}: deployment to ${clean(data.environment)} started (${clean(data.target)})`;
    }
    case 'DeploymentSucceeded': {
      const data = event.data as DeploymentSucceeded['data'];
      const endpoint = data.endpoint ? `, serving at ${free(data.endpoint, 120)}` : '';
      return `${subject}: deployment ${clean(data.deploymentId)} succeeded${endpoint}`;
    }
    case 'DeploymentFailed': {
      // The environment is not on the event: naming the deployment keeps this module stateless.
      const data = event.data as DeploymentFailed['data'];
      return `${subject}: deployment ${clean(data.deploymentId)} failed: ${free(data.reason, 200)}`;
    }
    case 'ServingEnded': {
      const data = event.data as ServingEnded['data'];
      return `${subject} rolled back: v${data.supersededBy} serves again (deployment ${clean(data.deploymentId)})`;
    }
    case 'LiveMetricBreached':
      return `${subject}: ${breachSummary(event.data as LiveMetricBreachedData)}`;
    default:
      return `${subject}: ${clean(event.type)}`;
  }
}

function why(trigger: TransitionTrigger | undefined, actor: string): string {
  switch (trigger?.kind) {
    case 'request':
      return `request by ${actor}`;
    case 'approval':
      return `approval by ${actor}`;
    case 'deployment-failed':
      return `deployment ${clean(trigger.deploymentId)} failed`;
    case 'rollback':
      return `rollback by ${actor}`;
    case 'archival':
      return `archival: ${free(hasText(trigger.detail) ? trigger.detail : trigger.rule, 120)}`;
    default:
      return `by ${actor}`;
  }
}

/** The metrics the verdict checked (the ones the policy cares about), else the first few measured. */
function evaluationSummary(data: EvaluationCompleted['data']): string {
  const checked = [...new Set((data.verdict?.checks ?? []).map((check) => check.metric))].filter(
    (metric) => typeof data.metrics?.[metric] === 'number',
  );
  const shown = (checked.length > 0 ? checked : Object.keys(data.metrics ?? {})).slice(0, 4);
  const metrics = shown.map((metric) => `${clean(metric)} ${formatNumber(data.metrics[metric] as number)}`).join(', ');
  const failed = [
    ...new Set((data.verdict?.checks ?? []).filter((check) => !check.passed).map((check) => clean(check.metric))),
  ];
  const verdict = data.verdict?.passed ? 'passed' : failed.length > 0 ? `failed: ${failed.join(', ')}` : 'failed';
  const set = `${clean(data.set.name)} ${shortDigest(data.set.digest)}`;
  return `evaluation completed on ${set}${metrics ? `: ${metrics}` : ''} (${verdict})`;
}

/** `live accuracy stayed below 0.85 for PT1H (worst 0.71, mean 0.78, 12 samples); rollback requested` */
function breachSummary(data: LiveMetricBreachedData): string {
  const metric = hasText(data.metric) ? clean(data.metric) : 'a metric';
  const window = data.window ?? {};
  const threshold = typeof data.threshold === 'number' ? formatNumber(data.threshold) : undefined;
  const limit =
    (data.direction === 'below' || data.direction === 'above') && threshold !== undefined ? `stayed ${data.direction} ${threshold}` : 'breached its threshold';
  const length = hasText(window.for) ? ` for ${clean(window.for)}` : '';
  const figures = present([
    typeof window.worst === 'number' && `worst ${formatNumber(window.worst)}`,
    typeof window.mean === 'number' && `mean ${formatNumber(window.mean)}`,
    typeof window.samples === 'number' && `${window.samples} samples`,
  ]);
  const rollback = data.rollbackRequested === true ? '; rollback requested' : '';
  return `live ${metric} ${limit}${length}${figures.length > 0 ? ` (${figures.join(', ')})` : ''}${rollback}`;
}

const shortDigest = (digest: string): string => {
  const [algorithm, hex] = digest.includes(':') ? digest.split(':', 2) : ['', digest];
  const short = (hex ?? '').slice(0, 8);
  return clean(`${algorithm ? `${algorithm}:` : ''}${short}${(hex ?? '').length > 8 ? '…' : ''}`);
};

/** Three significant digits below 1 (0.931), two decimals above (12.35): enough for a chat line. */
const formatNumber = (value: number): string =>
  Number.isInteger(value) ? String(value) : String(Number(Math.abs(value) < 1 ? value.toPrecision(3) : value.toFixed(2)));

/** One line, no control characters, no angle brackets (see webhookText). */
const clean = (value: string): string =>
  String(value)
    .replace(/[\u0000-\u001f\u007f\s]+/g, ' ')
    .replace(/</g, '‹')
    .replace(/>/g, '›')
    .trim();

/** Free text from a person, cleaned and clipped so the rest of the sentence survives. */
const free = (value: string, limit: number): string => clip(clean(value), limit);

const clip = (value: string, limit: number): string =>
  value.length <= limit ? value : `${value.slice(0, limit - 1).trimEnd()}…`;

// ---- sample ----------------------------------------------------------------------------

/** The event id of every sample event: all zeros but the version nibbles, never a real event's. */
export const SAMPLE_EVENT_ID = '00000000-0000-4000-8000-000000000000';
/** Who the sample claims caused it. */
export const SAMPLE_ACTOR: Actor = { kind: 'service', id: 'webhook-test' };

/**
 * A Staging → Production transition of `model` v1 for `POST /webhooks/{id}/test`, marked as a
 * sample (SAMPLE_EVENT_ID, SAMPLE_ACTOR, `[test]` in its text). `occurredAt` is the caller's
 * clock: this module reads none.
 */
export function sampleEvent(model: string, occurredAt: string): RecordedEvent {
  const data: StageTransitioned['data'] = {
    fromStage: 'Staging',
    toStage: 'Production',
    trigger: { kind: 'request', requestId: 'webhook-test' },
  };
  return {
    streamName: modelVersionStream(model, 1),
    revision: 0,
    position: 0n,
    type: 'StageTransitioned' satisfies StageTransitioned['type'],
    data,
    metadata: {
      eventId: SAMPLE_EVENT_ID,
      occurredAt,
      actor: SAMPLE_ACTOR,
      correlationId: 'webhook-test',
      causationId: null,
      schemaVersion: SCHEMA_VERSION,
      prevHash: null,
      hash: '',
    },
  };
}

