import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule, startService, type SuiteConfig } from '@mrw/platform';
import { RegistryModule } from '@mrw/registry';
import { WebhooksModule } from '@mrw/webhooks';

/** Distributed mode: the registry service on its own, with the webhooks it delivers from its log. */
const registryModule = (config: SuiteConfig): DynamicModule => {
  @Module({})
  class RegistryServiceModule {}
  return { module: RegistryServiceModule, imports: [PlatformModule.forRoot(config, { service: 'registry' }), RegistryModule, WebhooksModule] };
};

void startService('registry', registryModule);
