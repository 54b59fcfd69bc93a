import { Module } from '@nestjs/common';
import { reactingConsumer } from '@mrw/platform';
import { ArchivalReactions } from './archival.reactions';

/** The archival service: consumer group `mrw-archival` on the registry's events. */
@Module({
  providers: [ArchivalReactions, reactingConsumer('archival', ArchivalReactions)],
})
export class ArchivalModule {}
