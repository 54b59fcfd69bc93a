import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { deriveId, parseModelVersionStream, type Actor, type ApprovalRequested } from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';
import { OutboundHttp } from '@mrw/outbound';
import { CLOCK, DurableTimers, SecretBox, ServerSecrets, SUITE_CONFIG, TokenDirectory, type Clock, type DueTimer, type SuiteConfig } from '@mrw/platform';
import { DecisionLinks } from '../decide-by-link/decision-links';
import { APPROVAL_TIMERS } from '../expire-approvals/approval-expiry';
import { PeopleDirectory } from '../manage-people/people-directory';
import { keyMetricsOf, type ApprovalRequestedNotice, type NoticeLinks } from './approval-notice';
import { createChannel, openChannelSetting } from './channel-settings';
import { EmailChannel } from './email.channel';
import { NotificationDeliveryError, type NoticeRecipient } from './notification-channel';
import { ReviewFacts } from './review-facts';

export const NOTICE_TIMER_KIND = 'approval-notice';

/** Tries of one delivery before it is given up as failed (the channel is down for long, or refuses). */
const MAX_DELIVERY_ATTEMPTS = 8;

/** One notice to one channel (and, for email, one reviewer): a durable timer's payload. */
export interface NoticeDelivery {
  readonly notice: ApprovalRequestedNotice;
  /** The channel as the policy stores it: secrets sealed or named by an environment variable. */
  readonly channel: unknown;
  readonly recipient?: NoticeRecipient;
}

const sameActor = (a: Actor, b: Actor): boolean => a.kind === b.kind && a.id === b.id;

/**
 * Tells reviewers of a request on the channels its approval rule names (`notify`). Every
 * delivery — a channel, and for email each reviewer with a known address, each with their own
 * signed links — is a durable timer due at once: a crash before or during sending sends again
 * after the restart (receivers deduplicate by the notice id), a failing channel is retried
 * with backoff on its own and never holds up the others, and nothing here can block the
 * registry.
 */
@Injectable()
export class NotifyReviewers implements OnApplicationShutdown {
  private readonly logger = new Logger('notify-reviewers');
  private readonly box: SecretBox;
  private email: EmailChannel | undefined;

  constructor(
    @Inject(APPROVAL_TIMERS) private readonly timers: DurableTimers,
    private readonly facts: ReviewFacts,
    private readonly people: PeopleDirectory,
    private readonly tokens: TokenDirectory,
    private readonly links: DecisionLinks,
    private readonly http: OutboundHttp,
    @Inject(SUITE_CONFIG) private readonly config: SuiteConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    secrets: ServerSecrets,
  ) {
    this.box = SecretBox.forPolicySecrets(secrets);
    timers.on<NoticeDelivery>(NOTICE_TIMER_KIND, (timer) => this.deliver(timer));
  }

  /** `ApprovalRequested`: one delivery per channel of the rule (per reviewer for email). */
  async requested(event: RecordedEvent): Promise<void> {
    const data = event.data as ApprovalRequested['data'];
    const target = parseModelVersionStream(event.streamName);
    const channels = data.rule.notify ?? [];
    if (!target || channels.length === 0 || data.afterTheFact) return;
    await this.facts.caughtUp();
    const notice = this.noticeOf(event, data, target);
    const reviewers = this.reviewersOf(data, target.model, event.streamName);
    channels.forEach((channel, index) => {
      if (channel.kind === 'email') {
        for (const subject of reviewers) {
          const email = this.people.get(subject)?.email;
          if (!email) {
            this.logger.warn(`${subject} may review ${target.model}@${target.version} but has no email address in the people directory`);
            continue;
          }
          this.schedule(data.approvalId, `${index}:${subject}`, { notice, channel, recipient: { subject, email, links: this.linksFor(data, subject) } });
        }
      } else {
        this.schedule(data.approvalId, `${index}:room`, { notice, channel });
      }
    });
  }

  private schedule(approvalId: string, slot: string, delivery: NoticeDelivery): void {
    const id = deriveId(approvalId, `notice:${slot}`);
    this.timers.schedule(`approval-notice:${id}`, this.clock.now(), NOTICE_TIMER_KIND, { ...delivery, notice: { ...delivery.notice, id } });
  }

  /** Subjects who may decide: in the rule's reviewer group with a live user token covering the model, not its requester or registrant. */
  private reviewersOf(data: ApprovalRequested['data'], model: string, stream: string): string[] {
    const registrant = this.facts.registrantOf(stream);
    const subjects = new Set<string>();
    for (const entry of data.rule.reviewers) {
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
      (subject) => !sameActor({ kind: 'user', id: subject }, data.requestedBy) && !(registrant && sameActor({ kind: 'user', id: subject }, registrant)),
    );
  }

  private linksFor(data: ApprovalRequested['data'], subject: string): NoticeLinks {
    const pair = this.links.createDecisionLinks(data.approvalId, subject, data.expiresAt);
    return { approve: pair.approve, reject: pair.reject, view: this.viewLink(data.approvalId) };
  }

  private viewLink(approvalId: string): string {
    return `${this.config.publicUrl}/api/v1/approvals/${approvalId}`;
  }

  private noticeOf(event: RecordedEvent, data: ApprovalRequested['data'], target: { model: string; version: number }): ApprovalRequestedNotice {
    const evaluation = this.facts.evaluation(data.evidence.evaluationId);
    const view = this.viewLink(data.approvalId);
    return {
      kind: 'approval-requested',
      id: data.approvalId,
      occurredAt: event.metadata.occurredAt,
      model: target.model,
      version: target.version,
      purpose: data.purpose,
      targetStage: data.targetStage,
      requester: data.requestedBy,
      comment: this.facts.commentOf(event.streamName, data.requestId) ?? '',
      evidence: {
        evaluationId: data.evidence.evaluationId,
        dataset: evaluation ? evaluation.set : data.evidence.datasetDigest ? { name: '', digest: data.evidence.datasetDigest } : null,
        championVersion: data.evidence.championVersion,
      },
      keyMetrics: evaluation ? keyMetricsOf(evaluation.metrics, evaluation.comparison) : [],
      checks: data.checks,
      // A shared room gets no one's signed links: Slack decides by its buttons, the others open the request.
      links: { approve: view, reject: view, view },
      approvalId: data.approvalId,
      expiresAt: data.expiresAt,
      required: data.rule.required,
      collected: 0,
    };
  }

  private async deliver(timer: DueTimer<NoticeDelivery>): Promise<void> {
    const { notice, channel, recipient } = timer.payload;
    try {
      const setting = openChannelSetting(channel, { box: this.box, env: process.env });
      const sender = createChannel(setting, { http: this.http, clock: this.clock, email: setting.kind === 'email' ? this.emailChannel() : undefined });
      const result = await sender.send(notice, recipient);
      this.logger.log(`told ${recipient?.subject ?? 'the room'} on ${result.channel} (${result.target}) of ${notice.model}@${notice.version}`);
    } catch (error) {
      const transient = error instanceof NotificationDeliveryError ? error.transient : false;
      if (transient && timer.attempt < MAX_DELIVERY_ATTEMPTS) throw error;
      // Given up: logged with the reason (never the URL), and the other channels are unaffected.
      this.logger.error(`could not tell ${recipient?.subject ?? 'the room'} of ${notice.model}@${notice.version} after ${timer.attempt} attempts: ${(error as Error).message}`);
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
