import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule, startService, type SuiteConfig } from '@mrw/platform';
import { EvaluatorModule } from '@mrw/evaluator';

/** Distributed mode: the evaluator service on its own. */
const serviceModule = (config: SuiteConfig): DynamicModule => {
  @Module({})
  class EvaluatorServiceModule {}
  return { module: EvaluatorServiceModule, imports: [PlatformModule.forRoot(config, { service: 'evaluator' }), EvaluatorModule] };
};

void startService('evaluator', serviceModule);
