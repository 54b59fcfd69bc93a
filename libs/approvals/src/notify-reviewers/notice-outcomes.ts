import { Inject, Injectable } from '@nestjs/common';
import { deriveId, type NotificationOutcome } from '@mrw/contracts';
import { CLOCK, DurableTimers, RegistryCommands, type Clock, type DueTimer } from '@mrw/platform';
import { failureKind, TransientError } from '@mrw/resilience';
import { APPROVAL_TIMERS } from '../expire-approvals/approval-expiry';

export const OUTCOME_TIMER_KIND = 'approval-notice-outcome';

/** A settled delivery, and the version whose request it was about. */
export interface SettledDelivery extends NotificationOutcome {
  readonly model: string;
  readonly version: number;
}

/**
 * Reports each settled delivery to the registry (`RecordNotificationOutcome`), where it joins
 * the version's audit trail and shows on the request (`GET /api/v1/approvals/{id}`). The report
 * is a durable timer of its own, so a broker or registry away delays it but neither loses it
 * nor sends the notification again; its command id derives from the delivery, so a second
 * report appends nothing.
 */
@Injectable()
export class NoticeOutcomes {
  constructor(
    @Inject(APPROVAL_TIMERS) private readonly timers: DurableTimers,
    private readonly commands: RegistryCommands,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    timers.on<SettledDelivery>(OUTCOME_TIMER_KIND, (timer) => this.report(timer));
  }

  record(delivery: SettledDelivery): void {
    const id = deriveId(delivery.noticeId, `outcome:${delivery.recipient ?? 'room'}`);
    this.timers.schedule(`${OUTCOME_TIMER_KIND}:${id}`, this.clock.now(), OUTCOME_TIMER_KIND, delivery);
  }

  private async report(timer: DueTimer<SettledDelivery>): Promise<void> {
    const { model, version, ...outcome } = timer.payload;
    try {
      await this.commands.send('approvals', {
        commandId: deriveId(outcome.noticeId, `outcome:${outcome.recipient ?? 'room'}`),
        type: 'RecordNotificationOutcome',
        model,
        version,
        data: { ...outcome },
        correlationId: deriveId(outcome.approvalId, 'notifications'),
        causationId: null,
      });
    } catch (error) {
      if (failureKind(error) === 'permanent') throw error;
      throw new TransientError(`the outcome of notice ${outcome.noticeId} was not sent: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
  }
}
