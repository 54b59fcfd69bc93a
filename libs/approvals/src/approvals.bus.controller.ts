import { EventPattern, Payload } from '@nestjs/microservices';
import type { RecordedEvent } from '@mrw/event-store';
import { BusController, registryEvent } from '@mrw/platform';
import { ApprovalExpiry } from './expire-approvals/approval-expiry';
import { approvalClosedBy } from './expire-approvals/approval-timers';
import { NotifyReviewers } from './notify-reviewers/notify-reviewers';

/**
 * The registry events the approvals service reacts to, as consumer group `mrw-approvals`.
 * The timers are derived from this log: the group re-delivers from its checkpoint after a
 * crash and the timer file keeps what was scheduled, so a restart neither loses a timer
 * nor schedules one twice.
 */
@BusController()
export class ApprovalsBusController {
  constructor(
    private readonly expiry: ApprovalExpiry,
    private readonly notify: NotifyReviewers,
  ) {}

  @EventPattern(registryEvent('approvals', 'ApprovalRequested'))
  async requested(@Payload() event: RecordedEvent): Promise<void> {
    this.expiry.opened(event);
    await this.notify.requested(event);
  }

  @EventPattern([
    registryEvent('approvals', 'ApprovalQuorumReached'),
    registryEvent('approvals', 'ApprovalRejected'),
    registryEvent('approvals', 'ApprovalExpired'),
    registryEvent('approvals', 'ApprovalEvidenceChanged'),
  ])
  async closing(@Payload() event: RecordedEvent): Promise<void> {
    const approvalId = approvalClosedBy(event);
    if (approvalId) this.expiry.closed(approvalId);
    if (event.type === 'ApprovalExpired') await this.notify.expired(event);
    else if (event.type === 'ApprovalEvidenceChanged') await this.notify.voided(event);
  }

  /** The automated gates refused a request: its requester is told, not the reviewers. */
  @EventPattern(registryEvent('approvals', 'PromotionRefused'))
  async refused(@Payload() event: RecordedEvent): Promise<void> {
    await this.notify.gateRefused(event);
  }

  /** A deployment failed (rule 4.7): the people of the approval that led to it are told, once per deployment. */
  @EventPattern(registryEvent('approvals', 'DeploymentFailed'))
  async deploymentFailed(@Payload() event: RecordedEvent): Promise<void> {
    await this.notify.deploymentFailed(event);
  }

  /** The serving version's live metric stayed beyond its threshold: the Production rule's channels are told, once per breach. */
  @EventPattern(registryEvent('approvals', 'LiveMetricBreached'))
  async liveMetricBreached(@Payload() event: RecordedEvent): Promise<void> {
    await this.notify.liveMetricBreached(event);
  }

  /** The registry's webhooks disabled a subscription that kept failing: its owner is told, once. */
  @EventPattern(registryEvent('approvals', 'WebhookDisabled'))
  async webhookDisabled(@Payload() event: RecordedEvent): Promise<void> {
    await this.notify.webhookDisabled(event);
  }
}
