import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { deriveId, modelOfStream, type Actor } from '@mrw/contracts';
import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import { AddressPolicy, OutboundHttp } from '@mrw/outbound';
import { CLOCK, LEADERSHIP, ProblemException, SUITE_CONFIG, type Clock, type Leadership, type SuiteConfig } from '@mrw/platform';
import { sampleEvent, webhookNamesOf, webhookPayload, type WebhookEventName } from '../describe-events/webhook-events';
import { WebhookDirectory } from '../manage-webhooks/webhook-directory';
import { wantedNames, type WebhookSubscription } from '../manage-webhooks/webhook-subscription';
import { WebhookSubscriptions } from '../manage-webhooks/webhook-subscriptions';
import { DELIVERY_BOOK, type AttemptRecord, type DeliveryBook, type DeliveryRecord, type ReplayRecord } from './delivery-book';
import { settleDelivery, SubscriptionPump, type PumpDependencies } from './subscription-pump';
import { sendWebhook } from './webhook-sender';

/** Waits between attempts: 1 s doubling to 10 min, with jitter (within the maximum age). */
const BACKOFF = { initialMs: 1_000, maxMs: 600_000 };
const REPLAY_BATCH = 500;

/**
 * Runs every active subscription's deliveries (one pump each, so receivers never wait on each
 * other), flags and disables subscriptions that keep failing, and carries out what people ask
 * for: a redelivery, a test message, a replay of history.
 *
 * Pumps and replays run in one registry process at a time, the leader (see `Leadership`), from
 * a book every replica shares on PostgreSQL: a replica that takes over carries on from the
 * cursors the last leader settled, and any replica answers the history. A redelivery or a test
 * is sent by the replica asked; a replay asked of a standby is recorded in the book and in the
 * subscription's stream, which is how the leader hears of it.
 */
@Injectable()
export class WebhookDeliveries implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('webhooks');
  private readonly pumps = new Map<string, SubscriptionPump>();
  /** The status each subscription had when last reconciled: a re-activated one skips what happened while it was off. */
  private readonly seen = new Map<string, string>();
  private readonly work = new Map<string, Promise<void>>();
  private readonly replaysRunning = new Map<string, Promise<void>>();
  /** Aborted when this process stops leading (or shuts down): pumps and replays stop after the attempt in flight. */
  private term = new AbortController();
  private readonly deps: PumpDependencies;
  private readonly policy: AddressPolicy;
  private readonly clients = new Map<string, OutboundHttp>();
  /** Whether this process leads the deliveries now. */
  private started = false;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly directory: WebhookDirectory,
    private readonly subscriptions: WebhookSubscriptions,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(SUITE_CONFIG) private readonly config: SuiteConfig,
    @Inject(DELIVERY_BOOK) readonly book: DeliveryBook,
    @Inject(LEADERSHIP) private readonly leadership: Leadership,
  ) {
    this.policy = new AddressPolicy(config.outboundAllowedHosts);
    this.deps = {
      store,
      book: this.book,
      http: (id) => this.clientOf(id),
      clock,
      subscription: (id) => this.directory.get(id),
      secrets: (subscription) => this.subscriptions.signingSecrets(subscription),
      urlOf: (subscription) => this.subscriptions.urlOf(subscription),
      health: (subscription, health, reason) => this.health(subscription, health, reason),
      maxAgeMs: config.webhookMaxAgeMs,
      crashAt: config.crashAt,
      backoff: BACKOFF,
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    this.directory.onChange((subscription) => this.reconcile(subscription));
    await this.leadership.run({ name: 'webhook-deliveries', start: () => this.lead(), stop: () => this.standDown() });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.standDown();
    for (const client of this.clients.values()) client.close();
    await this.book.close();
  }

  /** Became the leader: every active subscription's pump starts from its cursor, and unfinished replays resume. */
  private async lead(): Promise<void> {
    this.term = new AbortController();
    this.started = true;
    // As after a restart: what another leader did while this process stood by is in the book.
    this.seen.clear();
    for (const subscription of this.directory.list()) this.reconcile(subscription);
    for (const replay of await this.book.replays()) this.runReplay(replay);
  }

  /** Stops every pump and replay after the attempt in flight; what is not settled is sent by the next leader. */
  private async standDown(): Promise<void> {
    this.started = false;
    this.term.abort();
    await Promise.all([...this.work.values()]);
    const pumps = [...this.pumps.values()];
    this.pumps.clear();
    await Promise.all(pumps.map((pump) => pump.stop()));
    await Promise.all([...this.replaysRunning.values()]);
  }

  /**
   * A subscription's own HTTP client, keeping its connections open between deliveries (the
   * address guard checks each new one). One per subscription, not one pool per host: many
   * subscriptions share a host (a chat service), and a receiver that never answers must not
   * hold the connections another subscription's deliveries wait for.
   */
  private clientOf(id: string): OutboundHttp {
    let client = this.clients.get(id);
    if (!client) {
      client = new OutboundHttp({ policy: this.policy, keepAlive: true });
      this.clients.set(id, client);
    }
    return client;
  }

  /** Resolves once every running pump has handled what the log holds now (tests, the benchmark). */
  async caughtUp(): Promise<void> {
    await Promise.all([...this.work.values()]);
    await Promise.all([...this.pumps.values()].map((pump) => pump.caughtUp()));
  }

  /** Starts or stops a subscription's pump as its status says; changes of one subscription are applied one after another. */
  private reconcile(subscription: WebhookSubscription): void {
    if (!this.started) return;
    const previous = this.work.get(subscription.id) ?? Promise.resolve();
    const next = previous.then(() => this.apply(subscription)).catch((error: unknown) => {
      this.logger.error(`webhook ${subscription.id}: ${error instanceof Error ? error.message : String(error)}`);
    });
    this.work.set(subscription.id, next);
  }

  private async apply(changed: WebhookSubscription): Promise<void> {
    if (!this.started) return;
    await this.resumeReplays(changed.id);
    const subscription = this.directory.get(changed.id);
    const active = subscription?.status === 'ACTIVE';
    const before = this.seen.get(changed.id);
    this.seen.set(changed.id, subscription?.status ?? 'DELETED');
    const pump = this.pumps.get(changed.id);
    if (!active) {
      if (pump) {
        this.pumps.delete(changed.id);
        await pump.stop();
      }
      this.clients.get(changed.id)?.close();
      this.clients.delete(changed.id);
      return;
    }
    if (pump) return;
    // Turned on again: what happened while it was off is not sent (a replay sends it on request).
    if (before !== undefined && before !== 'ACTIVE') await this.book.advance(changed.id, await this.store.headPosition());
    const from = (await this.book.cursor(changed.id)) ?? (subscription as WebhookSubscription).startAfter;
    if (!this.started) return;
    const started = new SubscriptionPump(changed.id, this.deps);
    this.pumps.set(changed.id, started);
    started.start(from);
  }

  /** Runs the replays of a subscription recorded (by any replica) and not running here yet. */
  private async resumeReplays(subscription: string): Promise<void> {
    for (const replay of await this.book.replays(subscription)) {
      if (replay.status === 'running' && this.started) this.runReplay(replay);
    }
  }

  private async health(subscription: WebhookSubscription, health: 'FAILING' | 'HEALTHY', reason: string): Promise<void> {
    await this.subscriptions.flag(subscription.id, health, reason);
    if (health !== 'FAILING') return;
    const since = this.directory.get(subscription.id)?.failingSince;
    if (since && this.clock.now().getTime() - Date.parse(since) >= this.config.webhookDisableAfterMs) {
      this.logger.warn(`webhook ${subscription.id} disabled: failing since ${since}`);
      await this.subscriptions.disableForFailures(subscription.id, reason);
    }
  }

  /** Sends a delivery again, now, once, with its `webhook-id`: the attempt is recorded as a redelivery. */
  async redeliver(subscription: WebhookSubscription, deliveryId: string): Promise<{ delivery: DeliveryRecord; attempt: AttemptRecord }> {
    const original = await this.book.get(deliveryId);
    if (!original || original.subscription !== subscription.id) throw new ProblemException('DELIVERY_NOT_FOUND', `webhook ${subscription.id} has no delivery ${deliveryId}`);
    const delivery = await this.book.enqueue({ ...original, id: randomUUID(), kind: 'redelivery', createdAt: this.clock.now().getTime() });
    return this.once(subscription, delivery);
  }

  /** Sends a sample event (a transition to Production of a model named by the scope, or `example-model`), once. */
  async test(subscription: WebhookSubscription, name: WebhookEventName | undefined): Promise<{ delivery: DeliveryRecord; attempt: AttemptRecord }> {
    const now = this.clock.now();
    const event = sampleEvent(subscription.model ?? 'example-model', now.toISOString());
    const chosen = name ?? (subscription.events[0] as WebhookEventName | undefined) ?? 'MODEL_VERSION_TRANSITIONED_STAGE';
    const id = randomUUID();
    const delivery = await this.book.enqueue({
      id,
      messageId: id,
      subscription: subscription.id,
      kind: 'test',
      eventId: null,
      eventType: event.type,
      eventName: chosen,
      stream: null,
      position: null,
      body: JSON.stringify(webhookPayload(event, chosen, subscription.id, [chosen])),
      createdAt: now.getTime(),
    });
    return this.once(subscription, delivery);
  }

  /**
   * Sends the history since `since` again (up to the log's head now), in order, as deliveries of
   * kind `replay` with their own `webhook-id`s, in the background and resumed after a restart.
   */
  async replay(subscription: WebhookSubscription, since: string, actor: Actor): Promise<ReplayRecord> {
    const until = await this.store.headPosition();
    const after = await this.positionBefore(Date.parse(since), until);
    const id = randomUUID();
    await this.book.addReplay({ id, subscription: subscription.id, since, after: after.toString(), until: until.toString(), createdAt: this.clock.now().getTime() });
    const replay = (await this.book.replays(subscription.id)).find((r) => r.id === id) as ReplayRecord;
    if (this.started) this.runReplay(replay);
    // Recorded in the subscription's stream too: who asked, and the leader, wherever it runs, hears of it.
    await this.subscriptions.noteReplay(subscription.id, { replayId: id, since }, actor);
    return replay;
  }

  private async once(subscription: WebhookSubscription, delivery: DeliveryRecord): Promise<{ delivery: DeliveryRecord; attempt: AttemptRecord }> {
    const at = this.clock.now();
    const outcome = await sendWebhook(this.deps.http(subscription.id), { url: this.deps.urlOf(subscription), messageId: delivery.messageId, body: delivery.body, secrets: this.deps.secrets(subscription), at });
    const attempt: AttemptRecord = { n: 1, at: at.getTime(), status: outcome.status, latencyMs: outcome.latencyMs, excerpt: outcome.excerpt, error: outcome.error };
    return { delivery: await this.book.recordAttempt(delivery, attempt, outcome.delivered ? 'delivered' : 'dead'), attempt };
  }

  /** The position just before the first event at or after `since` (0 for the log's start). */
  private async positionBefore(since: number, until: bigint): Promise<bigint> {
    let after = 0n;
    for (;;) {
      const batch = await this.store.readAll({ after, maxCount: REPLAY_BATCH });
      if (batch.length === 0) return after;
      for (const event of batch) {
        if (event.position > until || Date.parse(event.metadata.occurredAt) >= since) return after;
        after = event.position;
      }
    }
  }

  /** Runs a replay in this term unless it runs already. */
  private runReplay(replay: ReplayRecord): void {
    if (this.replaysRunning.has(replay.id)) return;
    const signal = this.term.signal;
    const running = this.replayLoop(replay, signal).catch((error: unknown) => {
      this.logger.error(`webhook ${replay.subscription}: replay ${replay.id} stopped: ${error instanceof Error ? error.message : String(error)}`);
    });
    this.replaysRunning.set(replay.id, running);
    void running.finally(() => this.replaysRunning.delete(replay.id));
  }

  private async replayLoop(start: ReplayRecord, signal: AbortSignal): Promise<void> {
    // The book's row, not the caller's copy: another leader may have carried it further.
    const replay = (await this.book.replays(start.subscription)).find((r) => r.id === start.id) ?? start;
    if (replay.status !== 'running') return;
    const until = BigInt(replay.until);
    let after = BigInt(replay.after);
    while (!signal.aborted) {
      const batch = (await this.store.readAll({ after, maxCount: REPLAY_BATCH, filter: { streamPrefixes: ['model-', 'modelVersion-'] } })).filter((e) => e.position <= until);
      if (batch.length === 0) {
        await this.book.advanceReplay(replay.id, until, 0, true);
        this.logger.log(`webhook ${replay.subscription}: replay ${replay.id} done`);
        return;
      }
      for (const event of batch) {
        const subscription = this.directory.get(replay.subscription);
        if (!subscription || signal.aborted) return;
        const names = wantedNames(subscription, modelOfStream(event.streamName), webhookNamesOf(event)) as WebhookEventName[];
        const name = names[0];
        let sent = 0;
        if (name) {
          const id = deriveId(replay.id, event.metadata.eventId);
          const delivery = await this.book.enqueue({
            id,
            messageId: id,
            subscription: subscription.id,
            kind: 'replay',
            eventId: event.metadata.eventId,
            eventType: event.type,
            eventName: name,
            stream: event.streamName,
            position: event.position.toString(),
            body: JSON.stringify(webhookPayload(event, name, subscription.id, names)),
            createdAt: this.clock.now().getTime(),
          });
          if (delivery.status === 'pending') {
            const settled = await settleDelivery(this.deps, subscription.id, delivery, signal);
            if (settled.status === 'pending') return;
          }
          sent = 1;
        }
        after = event.position;
        await this.book.advanceReplay(replay.id, after, sent, false);
      }
    }
  }
}
