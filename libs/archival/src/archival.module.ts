import { Module } from '@nestjs/common';
import { ArchivalBusController } from './archival.bus.controller';

/** The archival service: consumer group `mrw-archival` on the registry's events. */
@Module({
  controllers: [ArchivalBusController],
})
export class ArchivalModule {}
