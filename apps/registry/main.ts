import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule, startService, type SuiteConfig } from '@mrw/platform';
import { RegistryModule } from '@mrw/registry';

/** Distributed mode: the registry service on its own. */
const registryModule = (config: SuiteConfig): DynamicModule => {
  @Module({})
  class RegistryServiceModule {}
  return { module: RegistryServiceModule, imports: [PlatformModule.forRoot(config, { service: 'registry' }), RegistryModule] };
};

void startService('registry', registryModule);
