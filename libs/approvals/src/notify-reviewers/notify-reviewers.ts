import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import {
  DEFAULT_ROLLBACK_APPROVAL,
  deriveId,
  parseModelVersionStream,
  type Actor,
  type ApprovalEvidenceChanged,
  type ApprovalExpired,
  type ApprovalRequested,
  type ApprovalRule,
  type DeploymentFailed,
  type Evidence,
  type LiveMetricBreached,
  type NotifyChannel,
  type PromotionRefused,
  type WebhookDisabled,
} from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';
import { OutboundHttp } from '@mrw/outbound';
import { CLOCK, DurableTimers, SecretBox, ServerSecrets, SUITE_CONFIG, TokenDirectory, type Clock, type DueTimer, type SuiteConfig } from '@mrw/platform';
import { DecisionLinks } from '../decide-by-link/decision-links';
import { APPROVAL_TIMERS } from '../expire-approvals/approval-expiry';
import { APPROVAL_TIMER_KINDS, approvalTimerIds } from '../expire-approvals/approval-timers';
import { ApprovalBook, statusAt, type KnownApproval } from '../follow-approvals/approval-book';
import { ApprovalBookFeed } from '../follow-approvals/approval-book.feed';
import { PeopleDirectory } from '../manage-people/people-directory';
import { approvalIdOf, keyMetricsOf, type ApprovalNotice, type NoticeLinks } from './approval-notice';
import { createChannel, openChannelSetting } from './channel-settings';
import { deploymentFailedNotice, failureAudience } from './deployment-failed-notice';
import { EmailChannel } from './email.channel';
import { escalationAt, nextReminderAt } from './follow-up-times';
import { liveMetricBreachedNotice } from './live-metric-breached-notice';
import { NotificationDeliveryError, type DeliveryResult, type NoticeRecipient } from './notification-channel';
import { NoticeOutcomes } from './notice-outcomes';
import { ReviewFacts } from './review-facts';
import { renderWebhookDisabledEmail, webhookDisabledNotice, type WebhookDisabledNotice } from './webhook-disabled-notice';

export const NOTICE_TIMER_KIND = 'approval-notice';
/** A disabled webhook's email to its owner: a notice about no approval, with its own payload. */
export const WEBHOOK_NOTICE_TIMER_KIND = 'webhook-notice';

/** Tries of one delivery before it is given up as failed (the channel is down for long, or refuses). */
const MAX_DELIVERY_ATTEMPTS = 8;

/** One notice to one channel (and, for email, one person): a durable timer's payload. */
export interface NoticeDelivery {
  readonly notice: ApprovalNotice;
  /** The channel as the policy stores it: secrets sealed or named by an environment variable. */
  readonly channel: unknown;
  readonly recipient?: NoticeRecipient;
}

/** A disabled webhook's notice to its owner, by email: a durable timer's payload. */
export interface WebhookNoticeDelivery {
  readonly notice: WebhookDisabledNotice;
  readonly recipient: NoticeRecipient;
}

/** What a reminder or escalation timer needs when it fires: the approval, and the rule it was opened under. */
export interface FollowUpPayload {
  readonly approvalId: string;
  /** The version's stream (`modelVersion-<model>@<n>`): whose registrant is not a reviewer. */
  readonly stream: string;
  readonly rule: ApprovalRule;
}

/** Who hears of a notice: the rule's channels (email: each reviewer below), and people told by email whatever the channels. */
interface Audience {
  readonly channels: readonly NotifyChannel[];
  /** Reviewers reached on an `email` channel of the rule, with their own decision links when they can still decide. */
  readonly reviewers: readonly string[];
  /** The requester, the escalation contact: told by email (people directory) when SMTP is configured. */
  readonly direct: readonly string[];
  /** Whether the reviewers' copies carry their own signed approve/reject links. */
  readonly decisionLinks: boolean;
}

/** How a delivery ended: reached its receiver, or given up (permanent refusal, or out of tries). */
export interface DeliveryOutcome {
  readonly status: 'delivered' | 'given-up';
  readonly channel: string;
  /** The channel as people may read it: a host, never a URL with its token. */
  readonly target: string;
  readonly reason: string | null;
}

const sameActor = (a: Actor, b: Actor): boolean => a.kind === b.kind && a.id === b.id;
const userSubject = (actor: Actor | undefined): string | undefined => (actor?.kind === 'user' ? actor.id : undefined);

/** Why collected approvals no longer count, in words (rule 5). */
export const voidReason = (previous: Evidence, current: Evidence): string => {
  const reasons: string[] = [];
  if (previous.evaluationId !== current.evaluationId) {
    reasons.push(
      current.evaluationId
        ? `a new evaluation (${current.evaluationId}) replaced ${previous.evaluationId ?? 'none'}`
        : `evaluation ${String(previous.evaluationId)} no longer counts`,
    );
  }
  if (previous.datasetDigest !== current.datasetDigest) reasons.push(`the evaluation set is now ${current.datasetDigest ?? 'unknown'} (was ${previous.datasetDigest ?? 'none'})`);
  if (previous.championVersion !== current.championVersion) {
    reasons.push(
      current.championVersion === null
        ? `the champion v${previous.championVersion ?? '?'} no longer serves`
        : `the champion is now v${current.championVersion} (was ${previous.championVersion === null ? 'none' : `v${previous.championVersion}`})`,
    );
  }
  const text = reasons.length > 0 ? reasons.join('; ') : 'the evidence changed';
  return text.charAt(0).toUpperCase() + text.slice(1);
};

/**
 * Tells people about approvals on the channels their rule names (`notify`): the request, then
 * while it stays open a reminder every `remindEvery` to the reviewers still to decide and,
 * half-way to expiry, the `escalateTo` contact; then its expiry (to the requester), void
 * approvals (to reviewers and requester), and a request the automated gates refused (to the
 * requester and the rule's rooms, never the reviewers), and a deployment that failed (to the
 * requester, the reviewers who approved it and the rule's rooms); and, about no approval, a
 * live-metric breach on the serving version (to the Production rule's rooms and reviewers) and a
 * webhook the registry disabled for failing (to its owner, by email). Every notice kind goes through one
 * path (`tell` → `schedule` → `deliver`): every delivery — a channel, and for email each
 * person, with their own signed links — is a durable timer due at the fact's time, with a
 * notice id derived from (approval, kind, due time, channel, person), so a crash before or
 * during sending sends again after the restart and receivers deduplicate by the id; a failing
 * channel is retried with backoff on its own and never holds up the others, and nothing here
 * can block the registry.
 */
@Injectable()
export class NotifyReviewers implements OnApplicationShutdown {
  private readonly logger = new Logger('notify-reviewers');
  private readonly box: SecretBox;
  private email: EmailChannel | undefined;

  constructor(
    @Inject(APPROVAL_TIMERS) private readonly timers: DurableTimers,
    private readonly facts: ReviewFacts,
    private readonly book: ApprovalBook,
    private readonly bookFeed: ApprovalBookFeed,
    private readonly people: PeopleDirectory,
    private readonly tokens: TokenDirectory,
    private readonly links: DecisionLinks,
    private readonly http: OutboundHttp,
    @Inject(SUITE_CONFIG) private readonly config: SuiteConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly outcomes: NoticeOutcomes,
    secrets: ServerSecrets,
  ) {
    this.box = SecretBox.forPolicySecrets(secrets);
    timers.on<NoticeDelivery>(NOTICE_TIMER_KIND, (timer) => this.deliver(timer));
    timers.on<WebhookNoticeDelivery>(WEBHOOK_NOTICE_TIMER_KIND, (timer) => this.deliverWebhookNotice(timer));
    timers.on<FollowUpPayload>(APPROVAL_TIMER_KINDS.reminder, (timer) => this.remind(timer));
    timers.on<FollowUpPayload>(APPROVAL_TIMER_KINDS.escalation, (timer) => this.escalate(timer));
  }

  /** `ApprovalRequested`: the reviewers are told, and the reminder and escalation timers set. */
  async requested(event: RecordedEvent): Promise<void> {
    const data = event.data as ApprovalRequested['data'];
    const target = parseModelVersionStream(event.streamName);
    if (!target || data.afterTheFact) return;
    await this.facts.caughtUp();
    this.scheduleFollowUps(event, data);
    const channels = data.rule.notify ?? [];
    if (channels.length === 0) return;
    const requestedAt = event.metadata.occurredAt;
    const notice: ApprovalNotice = {
      kind: 'approval-requested',
      ...this.openApprovalOf({
        id: data.approvalId,
        model: target.model,
        version: target.version,
        purpose: data.purpose,
        targetStage: data.targetStage,
        requestedBy: data.requestedBy,
        comment: this.facts.commentOf(event.streamName, data.requestId) ?? '',
        expiresAt: data.expiresAt,
        required: data.rule.required,
        evidence: data.evidence,
        checks: data.checks,
      }),
      occurredAt: requestedAt,
      collected: 0,
    };
    const reviewers = this.reviewersOf(data.rule, data.requestedBy, target.model, event.streamName);
    this.tell(notice, requestedAt, { channels, reviewers, direct: [], decisionLinks: true });
  }

  /** `ApprovalExpired`: the requester learns that nobody decided in time. */
  async expired(event: RecordedEvent): Promise<void> {
    const data = event.data as ApprovalExpired['data'];
    await this.bookFeed.caughtUp();
    const approval = this.book.get(data.approvalId);
    const requester = userSubject(approval?.requestedBy);
    if (!approval || !requester || approval.afterTheFact) return;
    const notice: ApprovalNotice = {
      kind: 'expired',
      ...this.baseOf(approval),
      occurredAt: event.metadata.occurredAt,
      approvalId: approval.id,
      expiresAt: data.expiresAt,
    };
    this.tell(notice, event.metadata.occurredAt, { channels: [], reviewers: [], direct: [requester], decisionLinks: false });
  }

  /** `ApprovalEvidenceChanged`: reviewers and requester learn why the collected approvals were void, and what became of the request. */
  async voided(event: RecordedEvent): Promise<void> {
    const data = event.data as ApprovalEvidenceChanged['data'];
    await Promise.all([this.bookFeed.caughtUp(), this.facts.caughtUp()]);
    const approval = this.book.get(data.approvalId);
    const rule = this.facts.ruleOf(data.approvalId);
    if (!approval || !rule || approval.afterTheFact) return;
    const notice: ApprovalNotice = {
      kind: 'voided',
      ...this.baseOf({ ...approval, evidence: data.current, checks: data.checks }),
      occurredAt: event.metadata.occurredAt,
      approvalId: approval.id,
      reason: voidReason(data.previous, data.current),
      outcome: data.outcome,
      expiresAt: approval.expiresAt,
      required: approval.required,
      voided: data.voided,
    };
    const requester = userSubject(approval.requestedBy);
    this.tell(notice, event.metadata.occurredAt, {
      channels: rule.notify ?? [],
      reviewers: this.reviewersOf(rule, approval.requestedBy, approval.model, event.streamName),
      direct: requester ? [requester] : [],
      decisionLinks: data.outcome === 'reopened',
    });
  }

  /** `PromotionRefused`: the requester (and the Production rule's rooms) see the failing checks; reviewers are not bothered. */
  async gateRefused(event: RecordedEvent): Promise<void> {
    const data = event.data as PromotionRefused['data'];
    const target = parseModelVersionStream(event.streamName);
    if (!target) return;
    await this.facts.caughtUp();
    const requestedBy = this.facts.requesterOf(event.streamName, data.requestId);
    if (!requestedBy) return;
    const rule = data.toStage === 'Production' ? this.facts.policyOf(target.model)?.approval?.Production : undefined;
    const notice: ApprovalNotice = {
      kind: 'gate-refused',
      id: data.requestId,
      occurredAt: event.metadata.occurredAt,
      model: target.model,
      version: target.version,
      purpose: 'promotion',
      targetStage: data.toStage,
      requester: requestedBy,
      comment: this.facts.commentOf(event.streamName, data.requestId) ?? '',
      evidence: { evaluationId: null, dataset: null, championVersion: null },
      keyMetrics: [],
      checks: data.checks,
      links: { approve: '', reject: '', view: `${this.config.publicUrl}/api/v1/models/${target.model}/versions/${target.version}` },
      requestId: data.requestId,
    };
    const requester = userSubject(requestedBy);
    this.tell(notice, event.metadata.occurredAt, {
      // The rooms only: email on the rule means its reviewers, who are not asked here.
      channels: (rule?.notify ?? []).filter((channel) => channel.kind !== 'email'),
      reviewers: [],
      direct: requester ? [requester] : [],
      decisionLinks: false,
    });
  }

  /**
   * `DeploymentFailed` (rule 4.7): the requester, the reviewers who approved (the rule's
   * reviewers when none did: an emergency rollback) and the rule's rooms learn what failed and
   * why, that the champion keeps serving and where the candidate went back to. The rule is the
   * approval's; without one (or without channels on a rollback's rule) the model's Production rule.
   */
  async deploymentFailed(event: RecordedEvent): Promise<void> {
    const data = event.data as DeploymentFailed['data'];
    const target = parseModelVersionStream(event.streamName);
    if (!target) return;
    await Promise.all([this.bookFeed.caughtUp(), this.facts.caughtUp()]);
    const deployment = this.facts.deployment(data.deploymentId);
    if (!deployment) {
      this.logger.warn(`deployment ${data.deploymentId} of ${target.model}@${target.version} failed, but its request is not in the log: nobody is told`);
      return;
    }
    const approvalId = this.facts.approvalOf(event.streamName, deployment.requestId);
    const approval = approvalId ? this.book.get(approvalId) : undefined;
    const policy = this.facts.policyOf(target.model)?.approval;
    const rule =
      (approvalId ? this.facts.ruleOf(approvalId) : undefined) ??
      (deployment.purpose === 'rollback' ? (policy?.Rollback ?? DEFAULT_ROLLBACK_APPROVAL) : policy?.Production);
    // A rollback's rule often names no channel of its own; it deploys to Production all the same.
    const channels = rule?.notify?.length ? rule.notify : (policy?.Production?.notify ?? []);
    const requester = approval?.requestedBy ?? this.facts.requesterOf(event.streamName, deployment.requestId);
    const audience = requester
      ? failureAudience({
          channels,
          requester,
          approval,
          ruleReviewers: rule ? this.reviewersOf(rule, requester, target.model, event.streamName) : [],
        })
      : undefined;
    if (!requester || !audience) {
      this.logger.debug(`deployment ${data.deploymentId} of ${target.model}@${target.version} failed; no approval channel to tell it on`);
      return;
    }
    const notice = deploymentFailedNotice({
      model: target.model,
      version: target.version,
      deployment,
      reason: data.reason,
      failedAt: event.metadata.occurredAt,
      requester,
      comment: this.facts.commentOf(event.streamName, deployment.requestId) ?? '',
      ...(approval ? { approvalId: approval.id, evidence: this.baseOf(approval).evidence } : approvalId ? { approvalId } : {}),
      publicUrl: this.config.publicUrl,
    });
    this.tell(notice, event.metadata.occurredAt, { ...audience, decisionLinks: false });
  }

  /**
   * `LiveMetricBreached` (issue 12): the Production rule's rooms, and its reviewers on its email
   * channel, learn that the serving version's live metric stayed beyond the threshold and whether
   * a rollback was requested (that one's approval is told as any other). Once per breach: the
   * deliveries' timer ids derive from the event's id. About no approval, so outcomes are logged.
   */
  async liveMetricBreached(event: RecordedEvent): Promise<void> {
    const data = event.data as LiveMetricBreached['data'];
    const target = parseModelVersionStream(event.streamName);
    if (!target) return;
    await this.facts.caughtUp();
    const rule = this.facts.policyOf(target.model)?.approval?.Production;
    const about = `live ${data.metric} breach on ${target.model}@${target.version}`;
    if (!rule?.notify?.length) {
      this.logger.log(`${about}: the Production rule names no channel, nobody is told`);
      return;
    }
    const notice = liveMetricBreachedNotice({
      eventId: event.metadata.eventId,
      occurredAt: event.metadata.occurredAt,
      model: target.model,
      version: target.version,
      data,
      reportedBy: event.metadata.actor,
      publicUrl: this.config.publicUrl,
    });
    // Everyone of the group: who registered the version is no less concerned by how it serves.
    const reviewers = this.reviewersOf(rule, event.metadata.actor, target.model, event.streamName, { registrant: true });
    this.tell(notice, event.metadata.occurredAt, { channels: rule.notify, reviewers, direct: [], decisionLinks: false });
  }

  /**
   * `WebhookDisabled`: the subscription's owner learns by email (the people directory's address)
   * which webhook was disabled, since when and why it failed, and how to mend it; nobody else,
   * the webhook is its owner's. One delivery, a durable timer whose id derives from the event's,
   * so a redelivered event sends nothing again. No address (or a service as owner): logged only.
   */
  async webhookDisabled(event: RecordedEvent): Promise<void> {
    const data = event.data as WebhookDisabled['data'];
    const owner = userSubject(data.owner);
    const about = `webhook ${data.webhookId} (${data.urlOrigin}) was disabled for failing`;
    if (!owner) {
      this.logger.log(`${about}; its owner ${data.owner.id} is a service: nobody to email`);
      return;
    }
    if (!this.config.smtpUrl) {
      this.logger.warn(`${about}; its owner ${owner} is not emailed: MRW_SMTP_URL is not set`);
      return;
    }
    const email = this.people.get(owner)?.email;
    if (!email) {
      this.logger.log(`${about}; its owner ${owner} is not emailed: no address in the people directory`);
      return;
    }
    const id = deriveId(event.metadata.eventId, `webhook-disabled:direct:${owner}`);
    const notice = webhookDisabledNotice({ id, occurredAt: event.metadata.occurredAt, data, publicUrl: this.config.publicUrl });
    const delivery: WebhookNoticeDelivery = { notice, recipient: { subject: owner, email } };
    this.timers.schedule(`${WEBHOOK_NOTICE_TIMER_KIND}:${id}`, event.metadata.occurredAt, WEBHOOK_NOTICE_TIMER_KIND, delivery);
  }

  /** The reminder (`remindEvery`) and the half-way escalation (`escalateTo`) of an approval just opened. */
  private scheduleFollowUps(event: RecordedEvent, data: ApprovalRequested['data']): void {
    const requestedAt = event.metadata.occurredAt;
    const ids = approvalTimerIds(data.approvalId);
    const payload: FollowUpPayload = { approvalId: data.approvalId, stream: event.streamName, rule: data.rule };
    const reminder = data.rule.remindEvery ? nextReminderAt(requestedAt, data.rule.remindEvery, data.expiresAt) : undefined;
    // 'unchanged' for a redelivered event; a reminder already moved on is not wound back.
    if (reminder && !this.timers.get(ids.reminder)) this.timers.schedule(ids.reminder, reminder, APPROVAL_TIMER_KINDS.reminder, payload);
    const escalation = data.rule.escalateTo ? escalationAt(requestedAt, data.expiresAt) : undefined;
    if (escalation) this.timers.schedule(ids.escalation, escalation, APPROVAL_TIMER_KINDS.escalation, payload);
  }

  /** A reminder fell due: the reviewers still to decide are told, and the next reminder set while the request stays open. */
  private async remind(timer: DueTimer<FollowUpPayload>): Promise<void> {
    const { approvalId, stream, rule } = timer.payload;
    const approval = await this.stillOpen(approvalId);
    if (!approval || !rule.remindEvery) return;
    const decided = new Set(approval.approvals.map((decision) => userSubject(decision.by)));
    const notice: ApprovalNotice = { kind: 'reminder', ...this.openApprovalOf(approval), occurredAt: timer.dueAt, collected: approval.approvals.length };
    this.tell(notice, timer.dueAt, {
      channels: rule.notify ?? [],
      reviewers: this.reviewersOf(rule, approval.requestedBy, approval.model, stream).filter((subject) => !decided.has(subject)),
      direct: [],
      decisionLinks: true,
    });
    // The same timer at the next multiple (skipping the ones a long downtime missed): the
    // scheduler keeps a timer moved during its own run pending. None after the expiry.
    const now = new Date(Math.max(Date.parse(timer.dueAt), this.clock.now().getTime())).toISOString();
    const next = nextReminderAt(approval.requestedAt, rule.remindEvery, approval.expiresAt, now);
    if (next) this.timers.schedule(timer.id, next, APPROVAL_TIMER_KINDS.reminder, timer.payload);
  }

  /** Half-way to expiry and still open: the escalation contact is told by email, and the rule's rooms. */
  private async escalate(timer: DueTimer<FollowUpPayload>): Promise<void> {
    const { approvalId, rule } = timer.payload;
    const approval = await this.stillOpen(approvalId);
    const contact = rule.escalateTo?.startsWith('user:') ? rule.escalateTo.slice('user:'.length) : undefined;
    if (!approval || !contact) return;
    const notice: ApprovalNotice = { kind: 'escalation', ...this.openApprovalOf(approval), occurredAt: timer.dueAt, collected: approval.approvals.length };
    this.tell(notice, timer.dueAt, {
      channels: (rule.notify ?? []).filter((channel) => channel.kind !== 'email'),
      reviewers: [],
      direct: [contact],
      decisionLinks: false,
    });
  }

  /** The approval if it is still waiting for decisions now (the book caught up with the log). */
  private async stillOpen(approvalId: string): Promise<KnownApproval | undefined> {
    await Promise.all([this.bookFeed.caughtUp(), this.facts.caughtUp()]);
    const approval = this.book.get(approvalId);
    return approval && statusAt(approval, this.clock.now()) === 'pending' ? approval : undefined;
  }

  /**
   * The one way a notice leaves: one delivery per room channel, one per reviewer with an
   * address on an email channel, one per directly told person with an address.
   */
  private tell(notice: ApprovalNotice, dueAt: string, audience: Audience): void {
    const approvalId = approvalIdOf(notice);
    audience.channels.forEach((channel, index) => {
      if (channel.kind !== 'email') {
        this.schedule(notice, dueAt, `${index}:room`, channel);
        return;
      }
      for (const subject of audience.reviewers) {
        const email = this.addressOf(subject, notice);
        if (!email) continue;
        const links = audience.decisionLinks && approvalId && 'expiresAt' in notice ? this.linksFor(approvalId, subject, notice.expiresAt) : undefined;
        this.schedule(notice, dueAt, `${index}:${subject}`, channel, { subject, email, ...(links ? { links } : {}) });
      }
    });
    if (audience.direct.length > 0 && !this.config.smtpUrl) {
      this.logger.warn(`${notice.kind} notice of ${notice.model}@${notice.version} not emailed to ${audience.direct.join(', ')}: MRW_SMTP_URL is not set`);
      return;
    }
    for (const subject of audience.direct) {
      const email = this.addressOf(subject, notice);
      if (email) this.schedule(notice, dueAt, `direct:${subject}`, { kind: 'email' }, { subject, email });
    }
  }

  /** A delivery as a durable timer; its notice id and timer id derive from (approval, request or deployment, kind, due time, slot). */
  private schedule(notice: ApprovalNotice, dueAt: string, slot: string, channel: unknown, recipient?: NoticeRecipient): void {
    // A failed deployment is told once per deployment, whatever approval led to it.
    const about = notice.kind === 'deployment-failed' ? notice.deploymentId : (approvalIdOf(notice) ?? (notice.kind === 'gate-refused' ? notice.requestId : notice.id));
    const id = deriveId(about, `${notice.kind}@${new Date(dueAt).toISOString()}:${slot}`);
    const delivery: NoticeDelivery = { notice: { ...notice, id }, channel, ...(recipient ? { recipient } : {}) };
    this.timers.schedule(`${NOTICE_TIMER_KIND}:${id}`, dueAt, NOTICE_TIMER_KIND, delivery);
  }

  private addressOf(subject: string, notice: ApprovalNotice): string | undefined {
    const email = this.people.get(subject)?.email ?? undefined;
    if (!email) this.logger.warn(`${subject} is not told of ${notice.model}@${notice.version} (${notice.kind}) by email: no address in the people directory`);
    return email;
  }

  /**
   * Subjects who may decide: in the rule's reviewer group with a live user token covering the
   * model, not its requester or (unless `registrant` is asked for) its registrant.
   */
  private reviewersOf(rule: ApprovalRule, requestedBy: Actor, model: string, stream: string, include: { registrant?: boolean } = {}): string[] {
    const registrant = include.registrant ? undefined : this.facts.registrantOf(stream);
    const subjects = new Set<string>();
    for (const entry of rule.reviewers) {
      if (entry.startsWith('user:')) subjects.add(entry.slice('user:'.length));
      else if (entry.startsWith('role:')) {
        const role = entry.slice('role:'.length);
        for (const token of this.tokens.list()) {
          if (token.revokedAt === null && token.kind === 'user' && (token.roles as readonly string[]).includes(role) && (token.models.length === 0 || token.models.includes(model))) {
            subjects.add(token.subject);
          }
        }
      }
    }
    return [...subjects].filter(
      (subject) => !sameActor({ kind: 'user', id: subject }, requestedBy) && !(registrant && sameActor({ kind: 'user', id: subject }, registrant)),
    );
  }

  private linksFor(approvalId: string, subject: string, expiresAt: string): NoticeLinks {
    const pair = this.links.createDecisionLinks(approvalId, subject, expiresAt);
    return { approve: pair.approve, reject: pair.reject, view: this.viewLink(approvalId) };
  }

  private viewLink(approvalId: string): string {
    return `${this.config.publicUrl}/api/v1/approvals/${approvalId}`;
  }

  /** What every notice says of a request, from what the book (or the opening event) knows of it. */
  private baseOf(approval: Pick<KnownApproval, 'id' | 'model' | 'version' | 'purpose' | 'targetStage' | 'requestedBy' | 'comment' | 'evidence' | 'checks'>) {
    const evaluation = this.facts.evaluation(approval.evidence.evaluationId);
    const view = this.viewLink(approval.id);
    return {
      id: approval.id,
      model: approval.model,
      version: approval.version,
      purpose: approval.purpose,
      targetStage: approval.targetStage,
      requester: approval.requestedBy,
      comment: approval.comment,
      evidence: {
        evaluationId: approval.evidence.evaluationId,
        dataset: evaluation ? evaluation.set : approval.evidence.datasetDigest ? { name: '', digest: approval.evidence.datasetDigest } : null,
        championVersion: approval.evidence.championVersion,
      },
      keyMetrics: evaluation ? keyMetricsOf(evaluation.metrics, evaluation.comparison) : [],
      checks: approval.checks,
      // A shared room gets no one's signed links: Slack decides by its buttons, the others open the request.
      links: { approve: view, reject: view, view },
    };
  }

  private openApprovalOf(approval: Parameters<NotifyReviewers['baseOf']>[0] & Pick<KnownApproval, 'expiresAt' | 'required'>) {
    return { ...this.baseOf(approval), approvalId: approval.id, expiresAt: approval.expiresAt, required: approval.required };
  }

  private async deliver(timer: DueTimer<NoticeDelivery>): Promise<void> {
    const { notice, channel, recipient } = timer.payload;
    let result: DeliveryResult;
    try {
      const setting = openChannelSetting(channel, { box: this.box, env: process.env });
      const sender = createChannel(setting, { http: this.http, clock: this.clock, email: setting.kind === 'email' ? this.emailChannel() : undefined });
      result = await sender.send(notice, recipient);
    } catch (error) {
      const transient = error instanceof NotificationDeliveryError ? error.transient : false;
      if (transient && timer.attempt < MAX_DELIVERY_ATTEMPTS) throw error;
      // Given up: logged with the reason (never the URL), and the other channels are unaffected.
      this.logger.error(`could not tell ${recipient?.subject ?? 'the room'} of ${notice.model}@${notice.version} (${notice.kind}) after ${timer.attempt} attempts: ${(error as Error).message}`);
      this.reportOutcome(timer, {
        status: 'given-up',
        channel: (channel as { kind?: string } | null)?.kind ?? 'unknown',
        target: error instanceof NotificationDeliveryError ? error.target : '(not sent)',
        reason: (error as Error).message,
      });
      return;
    }
    this.logger.log(`told ${recipient?.subject ?? 'the room'} on ${result.channel} (${result.target}) of ${notice.model}@${notice.version} (${notice.kind})`);
    this.reportOutcome(timer, { status: 'delivered', channel: result.channel, target: result.target, reason: null });
  }

  /**
   * The one place a delivery's final outcome is known (delivered, or given up; a retry is
   * not final): reported to the registry, where it shows on the request and in the audit
   * trail. A gate refusal, and a failed deployment no approval led to, belong to no approval
   * request and are only logged.
   */
  private reportOutcome(timer: DueTimer<NoticeDelivery>, outcome: DeliveryOutcome): void {
    const { notice, recipient } = timer.payload;
    this.logger.debug(`notice ${notice.id} (${notice.kind}): ${outcome.status} after ${timer.attempt} attempt(s)`);
    const approvalId = approvalIdOf(notice);
    if (!approvalId) return;
    this.outcomes.record({
      model: notice.model,
      version: notice.version,
      approvalId,
      noticeId: notice.id,
      notice: notice.kind,
      channel: outcome.channel,
      target: outcome.channel === 'email' ? 'email' : outcome.target,
      recipient: recipient?.subject ?? null,
      outcome: outcome.status === 'delivered' ? 'delivered' : 'failed',
      attempts: timer.attempt,
      reason: outcome.reason,
    });
  }

  /**
   * A disabled webhook's email fell due: retried like every delivery while the SMTP server is
   * unavailable, given up when it refuses. About no approval, so the outcome is only logged (as a
   * gate refusal's is).
   */
  private async deliverWebhookNotice(timer: DueTimer<WebhookNoticeDelivery>): Promise<void> {
    const { notice, recipient } = timer.payload;
    const what = `webhook ${notice.webhookId} (${notice.urlOrigin}) was disabled`;
    try {
      const result = await this.emailChannel().sendEmail(notice.id, renderWebhookDisabledEmail(notice), recipient);
      this.logger.log(`told ${recipient.subject} by email (${result.target}) that ${what}`);
    } catch (error) {
      const transient = error instanceof NotificationDeliveryError ? error.transient : false;
      if (transient && timer.attempt < MAX_DELIVERY_ATTEMPTS) throw error;
      this.logger.error(`could not tell ${recipient.subject} that ${what} after ${timer.attempt} attempts: ${(error as Error).message}`);
    }
  }

  private emailChannel(): EmailChannel {
    if (!this.config.smtpUrl) {
      throw new NotificationDeliveryError('DELIVERY_REJECTED', 'email', '(not configured)', 'email needs MRW_SMTP_URL', { transient: false });
    }
    this.email ??= new EmailChannel({ smtpUrl: this.config.smtpUrl, from: this.config.mailFrom });
    return this.email;
  }

  onApplicationShutdown(): void {
    this.email?.close();
  }
}
