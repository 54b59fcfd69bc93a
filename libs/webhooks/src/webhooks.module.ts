import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { EVENT_STORE } from '@mrw/event-store';
import { SUITE_CONFIG, type SuiteConfig } from '@mrw/platform';
import { DELIVERY_BOOK, SqliteDeliveryBook, type DeliveryBook } from './deliver-webhooks/delivery-book';
import { PostgresDeliveryBook } from './deliver-webhooks/postgres-delivery-book';
import { WebhookDeliveries } from './deliver-webhooks/webhook-deliveries';
import { WebhookDeliveriesController } from './deliver-webhooks/deliveries.http.controller';
import { WebhookDirectory } from './manage-webhooks/webhook-directory';
import { WebhookSubscriptions } from './manage-webhooks/webhook-subscriptions';
import { WebhooksController } from './manage-webhooks/webhooks.http.controller';

/**
 * The delivery book where the registry keeps it: in the event store's PostgreSQL schema, which
 * every replica shares; otherwise in a file of the registry's data directory. Opened after the
 * store (which creates and migrates the schema): two creators of one schema at once would clash.
 */
const openDeliveryBook = async (config: SuiteConfig): Promise<DeliveryBook> =>
  config.store === 'postgres' && config.postgresUrl !== undefined
    ? PostgresDeliveryBook.open({ connectionString: config.postgresUrl, schema: config.postgresSchema })
    : new SqliteDeliveryBook(join(config.dataDir, 'webhooks.sqlite'));

/**
 * Stage-transition webhooks, part of the registry service: subscriptions (`/api/v1/webhooks`)
 * in private `webhook-*` streams, and their deliveries — each subscription its own cursor over
 * the registry's log, signed Standard Webhooks messages, retries, history, redelivery, replay.
 */
@Module({
  controllers: [WebhooksController, WebhookDeliveriesController],
  providers: [
    { provide: DELIVERY_BOOK, inject: [SUITE_CONFIG, EVENT_STORE], useFactory: openDeliveryBook },
    WebhookDirectory,
    WebhookSubscriptions,
    WebhookDeliveries,
  ],
  exports: [WebhookDeliveries, WebhookDirectory],
})
export class WebhooksModule {}
