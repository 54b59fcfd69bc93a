import { createHash } from 'node:crypto';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { isUuid, parseDuration } from '@mrw/contracts';
import { AddressPolicy } from '@mrw/outbound';
import { CurrentPrincipal, hasRole, inScope, ModelScope, ProblemException, RequireRole, SUITE_CONFIG, type AuthPrincipal, type SuiteConfig } from '@mrw/platform';
import { WebhookDirectory } from './webhook-directory';
import type { WebhookSettings, WebhookSubscription } from './webhook-subscription';
import { WebhookSubscriptions } from './webhook-subscriptions';
import { CreateWebhookDto, UpdateWebhookDto, WEBHOOK_SCHEMA, WEBHOOKS_SCHEMA } from './webhooks.dto';

const DEFAULT_OVERLAP = 'PT24H';
const MAX_OVERLAP_MS = 7 * 24 * 3600 * 1000;

/**
 * Who may manage a subscription: an admin any; a contributor only one scoped to a model it may
 * write (a registry-wide subscription is an admin's). Anyone else learns nothing of it (404).
 */
export const mayManage = (principal: AuthPrincipal, model: string | null): boolean =>
  hasRole(principal, 'admin') || (model !== null && principal.roles.includes('contributor') && inScope(principal, model));

/** The webhook subscription a caller may manage, or 404 WEBHOOK_NOT_FOUND. */
export const manageable = (directory: WebhookDirectory, id: string, principal: AuthPrincipal): WebhookSubscription => {
  const found = isUuid(id) ? directory.get(id) : undefined;
  if (!found || !mayManage(principal, found.model)) throw new ProblemException('WEBHOOK_NOT_FOUND', `no webhook ${id}`, {}, 404);
  return found;
};

/**
 * `/api/v1/webhooks`: subscriptions to registry events over HTTP. The URL and the signing secret
 * are write-only — a URL often carries a secret of its own (a Slack or Teams incoming webhook) —
 * so answers show the URL's origin and a fingerprint, never the secret (a generated one is shown
 * once, in the answer that created it).
 */
@ApiTags('webhooks')
@ApiBearerAuth()
@ModelScope('no-single-model')
@RequireRole('contributor')
@Controller('api/v1/webhooks')
export class WebhooksController {
  private readonly addresses: AddressPolicy;

  constructor(
    private readonly directory: WebhookDirectory,
    private readonly subscriptions: WebhookSubscriptions,
    @Inject(SUITE_CONFIG) config: SuiteConfig,
  ) {
    this.addresses = new AddressPolicy(config.outboundAllowedHosts);
  }

  @Post()
  @HttpCode(201)
  @ApiCreatedResponse({ schema: WEBHOOK_SCHEMA })
  async create(@Body() body: CreateWebhookDto, @CurrentPrincipal() principal: AuthPrincipal) {
    const model = body.model ?? null;
    this.assertMayManage(principal, model);
    const settings: WebhookSettings = {
      url: this.checkedUrl(body.url),
      description: body.description ?? '',
      events: body.events,
      model,
      status: body.status ?? 'ACTIVE',
    };
    const { subscription, generatedSecret } = await this.subscriptions.create(settings, body.secret, principal.actor);
    return { ...this.view(subscription), ...(generatedSecret ? { secret: generatedSecret } : {}) };
  }

  @Get()
  @ApiOkResponse({ schema: WEBHOOKS_SCHEMA })
  async list(@CurrentPrincipal() principal: AuthPrincipal) {
    await this.directory.caughtUp();
    const items = this.directory.list().filter((s) => mayManage(principal, s.model)).map((s) => this.view(s));
    return { total: items.length, items };
  }

  @Get(':id')
  @ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } })
  @ApiOkResponse({ schema: WEBHOOK_SCHEMA })
  async get(@Param('id') id: string, @CurrentPrincipal() principal: AuthPrincipal) {
    await this.directory.caughtUp();
    return this.view(manageable(this.directory, id, principal));
  }

  @Patch(':id')
  @ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } })
  @ApiOkResponse({ schema: WEBHOOK_SCHEMA })
  async update(@Param('id') id: string, @Body() body: UpdateWebhookDto, @CurrentPrincipal() principal: AuthPrincipal) {
    await this.directory.caughtUp();
    const current = manageable(this.directory, id, principal);
    if (body.model !== undefined) this.assertMayManage(principal, body.model);
    if (body.secretOverlap !== undefined && body.secret === undefined) {
      throw new ProblemException('VALIDATION_FAILED', 'secretOverlap goes with a new secret', { errors: [{ field: 'secretOverlap', message: 'give a secret to rotate to' }] }, 400);
    }
    const overlapMs = parseDuration(body.secretOverlap ?? DEFAULT_OVERLAP);
    if (overlapMs === undefined || overlapMs > MAX_OVERLAP_MS) {
      throw new ProblemException('VALIDATION_FAILED', 'secretOverlap must be at most P7D', { errors: [{ field: 'secretOverlap', message: 'at most P7D' }] }, 400);
    }
    const wanted: Partial<WebhookSettings> = {
      ...(body.url !== undefined ? { url: this.checkedUrl(body.url) } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
      ...(body.events !== undefined ? { events: body.events } : {}),
      ...(body.model !== undefined ? { model: body.model } : {}),
      ...(body.status !== undefined ? { status: body.status } : {}),
    };
    const rotation = body.secret !== undefined ? { secret: body.secret, overlapMs } : undefined;
    return this.view(await this.subscriptions.update(current.id, wanted, rotation, principal.actor));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } })
  @ApiNoContentResponse({ description: 'Deleted: nothing more is delivered; its history stays in the log' })
  async delete(@Param('id') id: string, @CurrentPrincipal() principal: AuthPrincipal): Promise<void> {
    await this.directory.caughtUp();
    await this.subscriptions.delete(manageable(this.directory, id, principal).id, principal.actor);
  }

  /** A subscription as answers show it: no secret, the URL as its origin and fingerprint. */
  view(subscription: WebhookSubscription) {
    const url = this.subscriptions.urlOf(subscription);
    return {
      id: subscription.id,
      url: `${new URL(url).origin}/…`,
      urlFingerprint: createHash('sha256').update(url).digest('hex').slice(0, 16),
      description: subscription.description,
      events: subscription.events,
      model: subscription.model,
      status: subscription.status,
      health: subscription.health,
      healthReason: subscription.healthReason,
      failingSince: subscription.failingSince,
      previousSecretUntil: subscription.previousSecret?.until ?? null,
      owner: subscription.owner,
      createdAt: subscription.createdAt,
      updatedAt: subscription.updatedAt,
    };
  }

  private assertMayManage(principal: AuthPrincipal, model: string | null): void {
    if (mayManage(principal, model)) return;
    throw new ProblemException(
      'FORBIDDEN',
      model === null ? 'a registry-wide webhook (no model) is an admin’s: give the model it is about' : `you may not manage webhooks of ${model}`,
      {},
      403,
    );
  }

  /** The URL, refused at once when it names an address the outbound guard refuses (deliveries check every resolved address too). */
  private checkedUrl(text: string): string {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new ProblemException('VALIDATION_FAILED', 'url is not a URL', { errors: [{ field: 'url', message: 'not a URL' }] }, 400);
    }
    if (url.username || url.password) {
      throw new ProblemException('VALIDATION_FAILED', 'url must not carry a user name or password', { errors: [{ field: 'url', message: 'no credentials in the URL' }] }, 400);
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const literal = /^[\d.]+$/.test(host) || host.includes(':') ? host : host.toLowerCase() === 'localhost' ? '127.0.0.1' : undefined;
    let refusal: ReturnType<AddressPolicy['check']>;
    try {
      refusal = literal ? this.addresses.check(url.hostname, port, literal) : undefined;
    } catch {
      throw new ProblemException('VALIDATION_FAILED', 'url names an address that is not one', { errors: [{ field: 'url', message: 'bad address' }] }, 400);
    }
    if (refusal) {
      throw new ProblemException('WEBHOOK_URL_REFUSED', refusal.message, { errors: [{ field: 'url', message: `${refusal.range} address` }] }, 422);
    }
    return url.toString();
  }
}
