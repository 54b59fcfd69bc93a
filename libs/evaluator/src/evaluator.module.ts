import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { MulterModule } from '@nestjs/platform-express';
import { diskStorage } from 'multer';
import { ContentAddressedStore } from '@mrw/artifacts';
import { durableTimersProviders, SUITE_CONFIG, type SuiteConfig } from '@mrw/platform';
import { EVALUATION_SET_FILES, EvaluationSetCatalog } from './evaluation-sets/evaluation-set-catalog';
import { MODEL_ARTIFACTS, RunEvaluation } from './run-evaluation/run-evaluation';
import { RunEvaluationBusController } from './run-evaluation/run-evaluation.bus.controller';
import { EVALUATOR_TIMERS, ShadowScoring } from './run-evaluation/shadow-scoring';
import { UploadEvaluationSetController } from './upload-evaluation-set/upload-evaluation-set.http.controller';

const MAX_SET_BYTES = 2 * 1024 ** 3;

/**
 * The evaluator: standard evaluation sets (content-addressed, immutable versions) and
 * evaluation runs (in-process, or through the shadow environment's endpoint), as consumer group
 * `mrw-evaluator` on the registry's events.
 */
@Module({
  imports: [
    MulterModule.registerAsync({
      inject: [SUITE_CONFIG],
      useFactory: (config: SuiteConfig) => {
        const scratch = join(config.dataDir, 'evaluation-sets', 'tmp');
        mkdirSync(scratch, { recursive: true });
        return { storage: diskStorage({ destination: scratch }), limits: { fileSize: MAX_SET_BYTES, files: 2 } };
      },
    }),
  ],
  controllers: [UploadEvaluationSetController, RunEvaluationBusController],
  providers: [
    {
      provide: EVALUATION_SET_FILES,
      inject: [SUITE_CONFIG],
      useFactory: (config: SuiteConfig) => new ContentAddressedStore(join(config.dataDir, 'evaluation-sets')),
    },
    {
      provide: MODEL_ARTIFACTS,
      inject: [SUITE_CONFIG],
      useFactory: (config: SuiteConfig) => new ContentAddressedStore(config.artifactsDir),
    },
    EvaluationSetCatalog,
    RunEvaluation,
    // Shadow evaluations wait for their endpoint, and run, as durable timers.
    ...durableTimersProviders(EVALUATOR_TIMERS, 'evaluator'),
    ShadowScoring,
  ],
})
export class EvaluatorModule {}
