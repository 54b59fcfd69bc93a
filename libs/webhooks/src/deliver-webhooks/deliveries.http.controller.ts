import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { isUuid } from '@mrw/contracts';
import { CurrentPrincipal, ModelScope, ProblemException, RequireRole, type AuthPrincipal } from '@mrw/platform';
import type { WebhookEventName } from '../describe-events/webhook-events';
import { WebhookDirectory } from '../manage-webhooks/webhook-directory';
import { manageable } from '../manage-webhooks/webhooks.http.controller';
import { DELIVERIES_SCHEMA, DELIVERY_SCHEMA, DeliveriesQuery, ReplayDto, TestWebhookDto } from '../manage-webhooks/webhooks.dto';
import type { AttemptRecord, DeliveryRecord } from './delivery-book';
import { WebhookDeliveries } from './webhook-deliveries';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const attemptView = (a: AttemptRecord) => ({ n: a.n, at: iso(a.at), status: a.status, latencyMs: Math.round(a.latencyMs), excerpt: a.excerpt, error: a.error });

/**
 * A subscription's delivery history — every attempt with its status code, latency and the start
 * of the receiver's answer — and what its manager may ask for: a redelivery, a test message, a
 * replay of history.
 */
@ApiTags('webhooks')
@ApiBearerAuth()
@ModelScope('no-single-model')
@RequireRole('contributor')
@ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } })
@Controller('api/v1/webhooks/:id')
export class WebhookDeliveriesController {
  constructor(
    private readonly directory: WebhookDirectory,
    private readonly deliveries: WebhookDeliveries,
  ) {}

  @Get('deliveries')
  @ApiOkResponse({ schema: DELIVERIES_SCHEMA })
  async list(@Param('id') id: string, @Query() query: DeliveriesQuery, @CurrentPrincipal() principal: AuthPrincipal) {
    await this.directory.caughtUp();
    const subscription = manageable(this.directory, id, principal);
    const page = await this.deliveries.book.list(subscription.id, { ...(query.status ? { status: query.status } : {}), limit: query.limit ?? 50, offset: query.offset ?? 0 });
    return { total: page.total, items: await Promise.all(page.items.map((d) => this.view(d))) };
  }

  @Get('deliveries/:delivery')
  @ApiParam({ name: 'delivery', schema: { type: 'string', format: 'uuid' } })
  @ApiOkResponse({ schema: DELIVERY_SCHEMA })
  async get(@Param('id') id: string, @Param('delivery') deliveryId: string, @CurrentPrincipal() principal: AuthPrincipal) {
    await this.directory.caughtUp();
    const subscription = manageable(this.directory, id, principal);
    const delivery = isUuid(deliveryId) ? await this.deliveries.book.get(deliveryId) : undefined;
    if (!delivery || delivery.subscription !== subscription.id) throw new ProblemException('DELIVERY_NOT_FOUND', `webhook ${id} has no delivery ${deliveryId}`);
    return { ...(await this.view(delivery)), body: JSON.parse(delivery.body) as unknown };
  }

  @Post('deliveries/:delivery/redeliver')
  @HttpCode(200)
  @ApiParam({ name: 'delivery', schema: { type: 'string', format: 'uuid' } })
  @ApiOkResponse({ schema: DELIVERY_SCHEMA, description: 'Sent once more, now, with the same webhook-id; the answer says how it went' })
  async redeliver(@Param('id') id: string, @Param('delivery') deliveryId: string, @CurrentPrincipal() principal: AuthPrincipal) {
    await this.directory.caughtUp();
    const subscription = manageable(this.directory, id, principal);
    if (!isUuid(deliveryId)) throw new ProblemException('DELIVERY_NOT_FOUND', `webhook ${id} has no delivery ${deliveryId}`);
    const { delivery } = await this.deliveries.redeliver(subscription, deliveryId);
    return this.view(delivery);
  }

  @Post('test')
  @HttpCode(200)
  @ApiOkResponse({ schema: DELIVERY_SCHEMA, description: 'A sample event sent once, now; the answer says how it went' })
  async test(@Param('id') id: string, @Body() body: TestWebhookDto, @CurrentPrincipal() principal: AuthPrincipal) {
    await this.directory.caughtUp();
    const subscription = manageable(this.directory, id, principal);
    const { delivery } = await this.deliveries.test(subscription, body.event as WebhookEventName | undefined);
    return this.view(delivery);
  }

  @Post('replay')
  @HttpCode(202)
  @ApiAcceptedResponse({ description: 'History since the moment given is being sent again, in order, in the background' })
  async replay(@Param('id') id: string, @Body() body: ReplayDto, @CurrentPrincipal() principal: AuthPrincipal) {
    await this.directory.caughtUp();
    const subscription = manageable(this.directory, id, principal);
    if (Number.isNaN(Date.parse(body.since))) throw new ProblemException('VALIDATION_FAILED', 'since is not a date', { errors: [{ field: 'since', message: 'not a date' }] }, 400);
    if (subscription.status === 'DISABLED') throw new ProblemException('WEBHOOK_DISABLED', `webhook ${id} is disabled: enable it to replay`, {}, 409);
    const replay = await this.deliveries.replay(subscription, new Date(body.since).toISOString(), principal.actor);
    return { replay: { id: replay.id, since: replay.since, status: replay.status } };
  }

  private async view(d: DeliveryRecord) {
    const history = await this.deliveries.book.attemptsOf(d.id);
    return {
      id: d.id,
      webhookId: d.messageId,
      kind: d.kind,
      event: d.eventName,
      eventId: d.eventId,
      eventType: d.eventType,
      stream: d.stream,
      status: d.status,
      attempts: d.attempts,
      createdAt: iso(d.createdAt),
      settledAt: iso(d.settledAt),
      lastStatus: d.lastStatus,
      lastError: d.lastError,
      history: history.map(attemptView),
    };
  }
}
