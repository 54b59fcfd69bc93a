import { join } from 'node:path';
import { Module } from '@nestjs/common';
import type Database from 'better-sqlite3';
import { EVENT_STORE } from '@mrw/event-store';
import { SUITE_CONFIG, type SuiteConfig } from '@mrw/platform';
import { CommandExecutor } from '../application/command-executor';
import { EVALUATION_SETS, evaluationSetsFromLog } from '../application/evaluation-set-directory';
import { RegistryStreams } from '../application/registry-streams';
import { BrowseCatalogController } from '../browse-catalog/browse-catalog.http.controller';
import { CatalogCheckpoint, CatalogQueries } from '../browse-catalog/catalog.queries';
import { committedCatalogCheckpoint, openReadModelReadOnly, READ_MODEL_FILE } from '../projections/read-model.database';
import { READ_MODEL_DB } from '../projections/registry-projector';

/**
 * What a reader process serves (MRW_SERVING_PROCESSES above 1): the catalog reads, the ones
 * dashboards, CI jobs and deployment tools poll. GET and HEAD of exactly these paths; a query
 * string changes nothing. Everything else goes on to the suite (see `forwardToLeader`).
 */
const CATALOG_READS = /^\/api\/v1\/(?:board|models(?:\/[^/?#]+(?:\/versions(?:\/[^/?#]+)?)?)?)(?:\?|$)/;

export const servedByReaders = (method: string, url: string): boolean => (method === 'GET' || method === 'HEAD') && CATALOG_READS.test(url);

/**
 * The registry as a reader process runs it: the catalog's routes over the suite's own files
 * (versions folded from the log, lists from the suite's read model, opened read only). No
 * projector, no consumer, no writer: what a reader answers is what the suite would answer at
 * that moment, since both read the same committed state.
 */
@Module({
  controllers: [BrowseCatalogController],
  providers: [
    {
      provide: READ_MODEL_DB,
      inject: [SUITE_CONFIG],
      useFactory: (config: SuiteConfig) => openReadModelReadOnly(join(config.dataDir, READ_MODEL_FILE)),
    },
    { provide: CatalogCheckpoint, inject: [READ_MODEL_DB], useFactory: (db: Database.Database) => committedCatalogCheckpoint(db) },
    { provide: EVALUATION_SETS, inject: [EVENT_STORE], useFactory: evaluationSetsFromLog },
    CommandExecutor,
    RegistryStreams,
    CatalogQueries,
  ],
})
export class RegistryReadsModule {}
