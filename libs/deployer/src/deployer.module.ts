import { Module } from '@nestjs/common';
import { reactingConsumer } from '@mrw/platform';
import { DeployerReactions } from './deployer.reactions';

/** The deployer service: consumer group `mrw-deployer` on the registry's events. */
@Module({
  providers: [DeployerReactions, reactingConsumer('deployer', DeployerReactions)],
})
export class DeployerModule {}
