import { Logger } from '@nestjs/common';
import { deriveId, modelOfStream } from '@mrw/contracts';
import type { Clock } from '@mrw/platform';
import type { EventStore, RecordedEvent, Subscription } from '@mrw/event-store';
import type { OutboundHttp } from '@mrw/outbound';
import { backoffDelay, sleep } from '@mrw/resilience';
import { webhookNamesOf, webhookPayload, type WebhookEventName } from '../describe-events/webhook-events';
import type { WebhookSubscription } from '../manage-webhooks/webhook-subscription';
import { wantedNames } from '../manage-webhooks/webhook-subscription';
import type { DeliveryBook, DeliveryRecord } from './delivery-book';
import { sendWebhook } from './webhook-sender';

/** What a pump needs from around it; one set shared by every pump. */
export interface PumpDependencies {
  readonly store: EventStore;
  readonly book: DeliveryBook;
  /** The client of one subscription: its own kept-open connections, so a silent receiver holds none of another's. */
  readonly http: (subscriptionId: string) => OutboundHttp;
  readonly clock: Clock;
  /** The subscription as it stands now (undefined once deleted). */
  readonly subscription: (id: string) => WebhookSubscription | undefined;
  readonly secrets: (subscription: WebhookSubscription) => string[];
  /** Where a subscription's messages go (its URL is stored sealed). */
  readonly urlOf: (subscription: WebhookSubscription) => string;
  /** A delivery was dead-lettered (`FAILING`), or one succeeded while failing (`HEALTHY`). */
  readonly health: (subscription: WebhookSubscription, health: 'FAILING' | 'HEALTHY', reason: string) => Promise<void>;
  readonly maxAgeMs: number;
  /** Test-only fault injection (MRW_CRASH_AT=webhooks:after-send): dies like `kill -9` after a delivery arrived, before it is recorded. */
  readonly crashAt?: string | undefined;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
}


/** How often a cursor moved past events nobody wanted is written down (such a move is cheap to repeat after a crash). */
const CURSOR_FLUSH_MS = 1_000;

/**
 * One subscription's deliveries: its own catch-up subscription to the log from its own cursor,
 * so a slow or dead receiver holds up nobody else. Events are delivered one at a time, in log
 * order (so one version's events arrive in order); a failed attempt is retried with
 * exponential backoff and jitter, or after the receiver's `Retry-After`, until the delivery is
 * older than the maximum age, when it is dead-lettered and the subscription flagged FAILING.
 * The cursor moves past an event only once its delivery is settled, so a crash repeats at most
 * the delivery in flight, with the same `webhook-id`.
 */
export class SubscriptionPump {
  private readonly logger = new Logger('webhooks');
  private readonly abort = new AbortController();
  private subscription: Subscription | undefined;
  private unflushed: bigint | undefined;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: string,
    private readonly deps: PumpDependencies,
  ) {}

  start(from: bigint): void {
    this.subscription = this.deps.store.subscribeToAll({
      name: `webhook-${this.id}`,
      startAfter: from,
      filter: { streamPrefixes: ['model-', 'modelVersion-'] },
      batchSize: 200,
      handler: (event) => this.handle(event),
      onError: (error) => this.logger.error(`webhook ${this.id}: its log subscription stopped: ${error instanceof Error ? error.message : String(error)}`),
    });
    this.flushTimer = setInterval(() => void this.flush(), CURSOR_FLUSH_MS);
    this.flushTimer.unref();
  }

  /** Stops after the attempt in flight (a retry's wait ends at once); what is not settled is sent again after a restart. */
  async stop(): Promise<void> {
    this.abort.abort();
    clearInterval(this.flushTimer);
    await this.subscription?.stop();
    await this.flush();
  }

  /** Resolves once the pump has handled every event in the log now (settled, or dead-lettered). */
  async caughtUp(): Promise<void> {
    await this.subscription?.caughtUp();
  }

  private async handle(event: RecordedEvent): Promise<void> {
    if (this.abort.signal.aborted) return;
    const subscription = this.deps.subscription(this.id);
    if (!subscription || subscription.status !== 'ACTIVE') return;
    const names = wantedNames(subscription, modelOfStream(event.streamName), webhookNamesOf(event)) as WebhookEventName[];
    const name = names[0];
    if (!name) {
      this.unflushed = event.position;
      return;
    }
    const id = deriveId(this.id, event.metadata.eventId);
    const delivery = await this.deps.book.enqueue({
      id,
      messageId: id,
      subscription: this.id,
      kind: 'event',
      eventId: event.metadata.eventId,
      eventType: event.type,
      eventName: name,
      stream: event.streamName,
      position: event.position.toString(),
      body: JSON.stringify(webhookPayload(event, name, this.id, names)),
      createdAt: this.deps.clock.now().getTime(),
    });
    if (delivery.status !== 'pending') {
      await this.deps.book.advance(this.id, event.position);
      return;
    }
    await settleDelivery(this.deps, this.id, delivery, this.abort.signal);
  }

  /** Writes down a cursor moved past events nobody wanted; a failed write is tried again at the next flush. */
  private async flush(): Promise<void> {
    const position = this.unflushed;
    if (position === undefined) return;
    this.unflushed = undefined;
    try {
      await this.deps.book.advance(this.id, position);
    } catch (error) {
      if (this.unflushed === undefined) this.unflushed = position;
      this.logger.warn(`webhook ${this.id}: could not write its cursor yet (${error instanceof Error ? error.message : String(error)})`);
    }
  }
}

/**
 * Sends a delivery until it is settled: delivered, or dead once another wait would take it past
 * the maximum age (or at once when no retry can help). Each attempt is recorded. Returns early,
 * leaving it pending, when `signal` aborts or the subscription stops being active.
 */
export const settleDelivery = async (deps: PumpDependencies, subscriptionId: string, start: DeliveryRecord, signal: AbortSignal): Promise<DeliveryRecord> => {
  const logger = new Logger('webhooks');
  let delivery = start;
  for (;;) {
    if (signal.aborted) return delivery;
    const subscription = deps.subscription(subscriptionId);
    if (!subscription || subscription.status === 'DISABLED') return delivery;
    const at = deps.clock.now();
    const outcome = await sendWebhook(deps.http(subscriptionId), { url: deps.urlOf(subscription), messageId: delivery.messageId, body: delivery.body, secrets: deps.secrets(subscription), at });
    const attempt = { n: delivery.attempts + 1, at: at.getTime(), status: outcome.status, latencyMs: outcome.latencyMs, excerpt: outcome.excerpt, error: outcome.error };
    if (outcome.delivered && deps.crashAt === 'webhooks:after-send') process.kill(process.pid, 'SIGKILL');
    if (outcome.delivered) {
      const settled = await deps.book.recordAttempt(delivery, attempt, 'delivered');
      if (subscription.health === 'FAILING') await deps.health(subscription, 'HEALTHY', `delivery ${delivery.id} succeeded`);
      return settled;
    }
    const wait = outcome.permanent ? Number.POSITIVE_INFINITY : Math.max(outcome.retryAfterMs ?? 0, backoffDelay(attempt.n, deps.backoff));
    if (at.getTime() + wait - delivery.createdAt > deps.maxAgeMs) {
      const dead = await deps.book.recordAttempt(delivery, attempt, 'dead');
      const why = outcome.permanent ? outcome.error : `still failing after ${attempt.n} attempts (${outcome.error})`;
      logger.warn(`webhook ${subscriptionId}: delivery ${delivery.id} (${delivery.eventName}) dead-lettered: ${why}`);
      await deps.health(subscription, 'FAILING', `delivery ${delivery.id} (${delivery.eventName}) was dead-lettered: ${why}`);
      return dead;
    }
    delivery = await deps.book.recordAttempt(delivery, attempt);
    await sleep(wait, signal);
  }
};
