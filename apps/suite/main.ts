import 'reflect-metadata';
import { join } from 'node:path';
import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule, startService, type SuiteConfig } from '@mrw/platform';
import { ApprovalsModule } from '@mrw/approvals';
import { ArchivalModule } from '@mrw/archival';
import { DeployerModule } from '@mrw/deployer';
import { EvaluatorModule } from '@mrw/evaluator';
import { RegistryModule } from '@mrw/registry';
import { WebhooksModule } from '@mrw/webhooks';

/** Embedded mode: every service module in one process, one port, one SQLite event store. */
const suiteModule = (config: SuiteConfig): DynamicModule => {
  @Module({})
  class SuiteModule {}
  return {
    module: SuiteModule,
    imports: [
      PlatformModule.forRoot(config, { service: 'suite' }),
      RegistryModule,
      EvaluatorModule,
      ApprovalsModule,
      ArchivalModule,
      DeployerModule,
      WebhooksModule,
    ],
  };
};

// With MRW_SERVING_PROCESSES above 1, reader processes (reader.ts) serve the catalog reads beside this one.
void startService('model-registry-workflows', suiteModule, { service: 'suite', readerScript: join(__dirname, 'reader.js') });
