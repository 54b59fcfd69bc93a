import { Module } from '@nestjs/common';
import { ApprovalsBusController } from './approvals.bus.controller';

/** The approvals service: consumer group `mrw-approvals` on the registry's events. */
@Module({
  controllers: [ApprovalsBusController],
})
export class ApprovalsModule {}
