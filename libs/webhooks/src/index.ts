export { WebhooksModule } from './webhooks.module';
export { WebhookDeliveries } from './deliver-webhooks/webhook-deliveries';
export {
  WEBHOOK_EVENT_NAMES,
  WEBHOOK_TEXT_LIMIT,
  SAMPLE_EVENT_ID,
  SAMPLE_ACTOR,
  isWebhookEventName,
  webhookNamesOf,
  webhookPayload,
  sampleEvent,
  type WebhookEventName,
  type WebhookPayload,
} from './describe-events/webhook-events';
