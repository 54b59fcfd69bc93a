import { Module } from '@nestjs/common';
import { WebhookDeliveries } from './deliver-webhooks/webhook-deliveries';
import { WebhookDeliveriesController } from './deliver-webhooks/deliveries.http.controller';
import { WebhookDirectory } from './manage-webhooks/webhook-directory';
import { WebhookSubscriptions } from './manage-webhooks/webhook-subscriptions';
import { WebhooksController } from './manage-webhooks/webhooks.http.controller';

/**
 * Stage-transition webhooks, part of the registry service: subscriptions (`/api/v1/webhooks`)
 * in private `webhook-*` streams, and their deliveries — each subscription its own cursor over
 * the registry's log, signed Standard Webhooks messages, retries, history, redelivery, replay.
 */
@Module({
  controllers: [WebhooksController, WebhookDeliveriesController],
  providers: [WebhookDirectory, WebhookSubscriptions, WebhookDeliveries],
  exports: [WebhookDeliveries, WebhookDirectory],
})
export class WebhooksModule {}
