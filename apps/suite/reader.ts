import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule, startReader, type SuiteConfig } from '@mrw/platform';
import { RegistryReadsModule, servedByReaders } from '@mrw/registry';

/**
 * A reader process of the embedded suite (MRW_SERVING_PROCESSES above 1): the registry's catalog
 * reads over the suite's own files; every other request goes on to the suite that started it.
 */
const readerModule = (config: SuiteConfig): DynamicModule => {
  @Module({})
  class SuiteReaderModule {}
  return {
    module: SuiteReaderModule,
    imports: [PlatformModule.forRoot(config, { service: 'suite-reader', othersWrite: true }), RegistryReadsModule],
  };
};

void startReader('model-registry-workflows', readerModule, servedByReaders);
