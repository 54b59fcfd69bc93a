import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { MulterModule } from '@nestjs/platform-express';
import { diskStorage } from 'multer';
import { ContentAddressedStore } from '@mrw/artifacts';
import { EVENT_STORE } from '@mrw/event-store';
import { registerProblemDialect, SUITE_CONFIG, type SuiteConfig } from '@mrw/platform';
import { CommandExecutor } from './application/command-executor';
import { CommandMetadataFactory } from './application/command-metadata.factory';
import { EVALUATION_SETS, evaluationSetsFromLog } from './application/evaluation-set-directory';
import { RegistryStreams } from './application/registry-streams';
import { AuditQueries } from './audit-trail/audit.queries';
import { AuditTrailController } from './audit-trail/audit-trail.http.controller';
import { BrowseCatalogController } from './browse-catalog/browse-catalog.http.controller';
import { CatalogCheckpoint, CatalogQueries } from './browse-catalog/catalog.queries';
import { LogForwarder } from './forward-log/log-forwarder';
import { ServiceCommandsBusController } from './handle-service-commands/service-commands.bus.controller';
import { ApprovalQueries } from './decide-approvals/approval.queries';
import { ApprovalsController } from './decide-approvals/approvals.http.controller';
import { DeadLetterIndexer } from './redrive-dead-letters/dead-letter-indexer';
import { DeadLetterQueries } from './redrive-dead-letters/dead-letters.queries';
import { DeadLettersController } from './redrive-dead-letters/dead-letters.http.controller';
import { RedriveDeadLetter } from './redrive-dead-letters/redrive-dead-letter';
import { ServiceCommandsHandler } from './handle-service-commands/service-commands.handler';
import { CompareVersionsController } from './compare-versions/compare-versions.http.controller';
import { ManageAliasesController } from './manage-aliases/manage-aliases.http.controller';
import { ManageTagsController } from './manage-tags/manage-tags.http.controller';
import { ManageModelDetailsController, UpdateVersionDescriptionController } from './manage-model-details/manage-model-details.http.controller';
import { MlflowRegistryController } from './mlflow-compat/mlflow-registry.http.controller';
import { MLFLOW_PROBLEM_DIALECT } from './mlflow-compat/mlflow-wire';
import { ManageTokensController } from './manage-tokens/manage-tokens.http.controller';
import { TokenBootstrap } from './manage-tokens/token-bootstrap';
import { TokenIssuer } from './manage-tokens/token-issuer';
import { openReadModel, READ_MODEL_FILE } from './projections/read-model.database';
import { READ_MODEL_DB, RegistryProjector } from './projections/registry-projector';
import { ReplicaCatchUp } from './projections/replica-catch-up.middleware';
import { RegisterModelController } from './register-model/register-model.http.controller';
import { ARTIFACT_STORE, ArtifactSources } from './register-version/artifact-sources';
import { RegisterVersionController } from './register-version/register-version.http.controller';
import { VersionRegistration } from './register-version/version-registration';
import { RegisterTrainingRunHandler } from './register-training-runs/register-training-run.handler';
import { SigningKeyController } from './register-training-runs/signing-key.http.controller';
import { TokenSelfController } from './manage-tokens/token-self.http.controller';
import { ConsoleController } from './serve-console/console.http.controller';
import { TrainingEventsBusController } from './register-training-runs/training-events.bus.controller';
import { RequestRollbackController } from './request-rollback/request-rollback.http.controller';
import { RollbackRequests } from './request-rollback/rollback-requests';
import { RequestTransitionController } from './request-transition/request-transition.http.controller';
import { StageTransitions } from './request-transition/stage-transitions';
import { ExistingVersionsArchival } from './request-transition/archive-existing-versions';
import { SetPolicyController } from './set-policy/set-policy.http.controller';
import { LiveEventStreams } from './stream-events/live-event-streams';
import { StreamEventsController } from './stream-events/stream-events.http.controller';
import { UploadArtifactController } from './upload-artifact/upload-artifact.http.controller';
import { MlflowArtifacts } from './mlflow-compat/mlflow-artifacts';
import { MLFLOW_ARTIFACT_INDEX, PostgresArtifactIndex, SqliteArtifactIndex, type MlflowArtifactIndex } from './mlflow-compat/mlflow-artifact-index';
import { MlflowArtifactsController } from './mlflow-compat/mlflow-artifacts.http.controller';

/**
 * The registry: single writer of the model and model-version streams, enforcer of the
 * lifecycle rules, owner of the public API for models, versions, audit and tokens.
 */
@Module({
  imports: [
    MulterModule.registerAsync({
      inject: [SUITE_CONFIG],
      useFactory: (config: SuiteConfig) => {
        const scratch = join(config.artifactsDir, 'tmp');
        mkdirSync(scratch, { recursive: true });
        return { storage: diskStorage({ destination: scratch }), limits: { fileSize: config.maxArtifactBytes, files: 1 } };
      },
    }),
  ],
  controllers: [
    RegisterModelController,
    SetPolicyController,
    RegisterVersionController,
    RequestTransitionController,
    RequestRollbackController,
    ManageTagsController,
    ManageModelDetailsController,
    UpdateVersionDescriptionController,
    ManageAliasesController,
    UploadArtifactController,
    MlflowArtifactsController,
    BrowseCatalogController,
    AuditTrailController,
    StreamEventsController,
    CompareVersionsController,
    ManageTokensController,
    ServiceCommandsBusController,
    TrainingEventsBusController,
    SigningKeyController,
    TokenSelfController,
    ConsoleController,
    DeadLettersController,
    ApprovalsController,
    MlflowRegistryController,
  ],
  providers: [
    // ports bound to adapters
    {
      provide: ARTIFACT_STORE,
      inject: [SUITE_CONFIG],
      useFactory: (config: SuiteConfig) => new ContentAddressedStore(config.artifactsDir),
    },
    {
      provide: READ_MODEL_DB,
      inject: [SUITE_CONFIG],
      useFactory: (config: SuiteConfig) => {
        mkdirSync(config.dataDir, { recursive: true });
        return openReadModel(join(config.dataDir, READ_MODEL_FILE));
      },
    },
    { provide: EVALUATION_SETS, inject: [EVENT_STORE], useFactory: evaluationSetsFromLog },
    {
      provide: MLFLOW_ARTIFACT_INDEX,
      // After the event store: its migrations make the schema the index's table goes in (two
      // concurrent CREATE SCHEMA IF NOT EXISTS collide in PostgreSQL).
      inject: [SUITE_CONFIG, EVENT_STORE],
      // Replicas sharing a PostgreSQL log share the index too: what one's artifact proxy took, all of them list and serve.
      useFactory: async (config: SuiteConfig): Promise<MlflowArtifactIndex> =>
        config.store === 'postgres' && config.postgresUrl !== undefined
          ? PostgresArtifactIndex.open({ connectionString: config.postgresUrl, schema: config.postgresSchema })
          : new SqliteArtifactIndex(join(config.dataDir, 'mlflow-artifacts.sqlite')),
    },
    {
      provide: MlflowArtifacts,
      inject: [ARTIFACT_STORE, MLFLOW_ARTIFACT_INDEX, SUITE_CONFIG],
      useFactory: (store: ContentAddressedStore, index: MlflowArtifactIndex, config: SuiteConfig) => new MlflowArtifacts(store, index, config.maxArtifactBytes),
    },
    // writing
    CommandExecutor,
    CommandMetadataFactory,
    RegistryStreams,
    ArtifactSources,
    VersionRegistration,
    StageTransitions,
    ExistingVersionsArchival,
    TokenIssuer,
    TokenBootstrap,
    RollbackRequests,
    // messaging
    LogForwarder,
    ServiceCommandsHandler,
    RegisterTrainingRunHandler,
    DeadLetterIndexer,
    RedriveDeadLetter,
    // reading
    RegistryProjector,
    { provide: CatalogCheckpoint, useExisting: RegistryProjector },
    ReplicaCatchUp,
    CatalogQueries,
    AuditQueries,
    DeadLetterQueries,
    ApprovalQueries,
    LiveEventStreams,
  ],
  exports: [RegistryStreams, RegistryProjector, CommandExecutor, LogForwarder],
})
export class RegistryModule implements NestModule {
  constructor(@Inject(SUITE_CONFIG) private readonly config: SuiteConfig) {
    // Refusals on MLflow's paths that no MLflow controller sees still answer in MLflow's shape.
    registerProblemDialect('mlflow', MLFLOW_PROBLEM_DIALECT);
  }

  configure(consumer: MiddlewareConsumer): void {
    // Replicas sharing a PostgreSQL log answer with every write any of them acknowledged; probes
    // ask about this process only.
    if (this.config.store === 'postgres') {
      consumer.apply(ReplicaCatchUp).exclude('healthz', 'readyz', 'metrics').forRoutes('*path');
    }
  }
}
