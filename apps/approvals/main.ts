import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule, startService, type SuiteConfig } from '@mrw/platform';
import { ApprovalsModule } from '@mrw/approvals';

/** Distributed mode: the approvals service on its own. */
const serviceModule = (config: SuiteConfig): DynamicModule => {
  @Module({})
  class ApprovalsServiceModule {}
  return { module: ApprovalsServiceModule, imports: [PlatformModule.forRoot(config, { service: 'approvals' }), ApprovalsModule] };
};

void startService('approvals', serviceModule);
