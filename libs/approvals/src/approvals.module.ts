import { Module } from '@nestjs/common';
import { reactingConsumer } from '@mrw/platform';
import { ApprovalsReactions } from './approvals.reactions';

/** The approvals service: consumer group `mrw-approvals` on the registry's events. */
@Module({
  providers: [ApprovalsReactions, reactingConsumer('approvals', ApprovalsReactions)],
})
export class ApprovalsModule {}
