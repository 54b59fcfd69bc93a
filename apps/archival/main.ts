import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule, startService, type SuiteConfig } from '@mrw/platform';
import { ArchivalModule } from '@mrw/archival';

/** Distributed mode: the archival service on its own. */
const serviceModule = (config: SuiteConfig): DynamicModule => {
  @Module({})
  class ArchivalServiceModule {}
  return { module: ArchivalServiceModule, imports: [PlatformModule.forRoot(config, { service: 'archival' }), ArchivalModule] };
};

void startService('archival', serviceModule);
