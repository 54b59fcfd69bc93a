import { Inject, Injectable, Logger } from '@nestjs/common';
import type { RecordedEvent } from '@mrw/event-store';
import { DurableTimers, RegistryCommands, type DueTimer } from '@mrw/platform';
import { failureKind, TransientError } from '@mrw/resilience';
import { APPROVAL_TIMER_KINDS, approvalTimerIds, expireApprovalCommand, expiryTimerOf, type ExpiryPayload } from './approval-timers';

/** The approvals service's durable timers (`<dataDir>/approvals-timers.sqlite`). */
export const APPROVAL_TIMERS = Symbol('APPROVAL_TIMERS');

/**
 * Expires approvals nobody decided: a durable timer per open approval, derived from the
 * events the service consumes, that sends the registry `ExpireApproval` when it falls due.
 * The service never reads the registry's streams; it knows an approval is closed from the
 * closing events, and cancels its timers then.
 */
@Injectable()
export class ApprovalExpiry {
  private readonly logger = new Logger('approval-expiry');

  constructor(
    @Inject(APPROVAL_TIMERS) private readonly timers: DurableTimers,
    private readonly commands: RegistryCommands,
  ) {
    timers.on<ExpiryPayload>(APPROVAL_TIMER_KINDS.expiry, (timer) => this.expire(timer));
  }

  /** `ApprovalRequested`: the approval expires at its `expiresAt` unless it closes first. */
  opened(event: RecordedEvent): void {
    const timer = expiryTimerOf(event);
    const outcome = this.timers.schedule(timer.id, timer.dueAt, timer.kind, timer.payload);
    if (outcome !== 'unchanged') this.logger.log(`approval ${timer.payload.approvalId} expires at ${timer.payload.expiresAt}`);
  }

  /** A closing event: nothing is left to expire, remind or escalate. */
  closed(approvalId: string): void {
    for (const id of Object.values(approvalTimerIds(approvalId))) this.timers.cancel(id);
  }

  private async expire(timer: DueTimer<ExpiryPayload>): Promise<void> {
    try {
      await this.commands.send('approvals', expireApprovalCommand(timer.payload));
    } catch (error) {
      // Not sent is not refused (the registry dead-letters refusals itself): a broker away, or
      // the registry's consumer not yet up at start, passes; an expiry must not be dropped.
      if (failureKind(error) === 'permanent') throw error;
      throw new TransientError(`ExpireApproval for ${timer.payload.approvalId} not sent: ${(error as Error)?.message ?? String(error)}`, {
        cause: error,
      });
    }
  }
}
