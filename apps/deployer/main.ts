import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule, startService, type SuiteConfig } from '@mrw/platform';
import { DeployerModule } from '@mrw/deployer';

/** Distributed mode: the deployer service on its own. */
const serviceModule = (config: SuiteConfig): DynamicModule => {
  @Module({})
  class DeployerServiceModule {}
  return { module: DeployerServiceModule, imports: [PlatformModule.forRoot(config, { service: 'deployer' }), DeployerModule] };
};

void startService('deployer', serviceModule);
