import { Inject, Injectable } from '@nestjs/common';
import { EVENT_STORE, type EventStore, type RecordedEvent } from '@mrw/event-store';
import { LogFeed, Readiness } from '@mrw/platform';
import { evolveWebhook, type WebhookSubscription } from './webhook-subscription';

/**
 * Every webhook subscription, folded from the `webhook-*` streams of the log and kept current:
 * the API reads it, and the deliveries start, stop and re-sign as it changes. Events are
 * applied in stream order and once (a stream's revision only moves forward); listeners hear of
 * every change, wherever it was written.
 */
@Injectable()
export class WebhookDirectory extends LogFeed {
  private readonly subscriptions = new Map<string, WebhookSubscription>();
  private readonly listeners: Array<(subscription: WebhookSubscription) => void> = [];

  constructor(
    @Inject(EVENT_STORE) private readonly log: EventStore,
    readiness: Readiness,
  ) {
    super(log, readiness, { name: 'webhook-subscriptions', filter: { streamPrefixes: ['webhook-'] } });
  }

  protected apply(event: RecordedEvent): void {
    if (!event.streamName.startsWith('webhook-')) return;
    const id = event.streamName.slice('webhook-'.length);
    const current = this.subscriptions.get(id);
    if (current && current.revision >= event.revision) return;
    const next = evolveWebhook(current, { type: event.type, data: event.data, revision: event.revision, at: event.metadata.occurredAt });
    if (!next) return;
    this.subscriptions.set(id, next);
    for (const listener of this.listeners) listener(next);
  }

  /** Folds what this process has not seen yet of one subscription's stream (its own appends, or another replica's). */
  async refresh(id: string): Promise<WebhookSubscription | undefined> {
    const from = (this.subscriptions.get(id)?.revision ?? -1) + 1;
    for (const event of await this.log.readStream(`webhook-${id}`, { fromRevision: from })) this.apply(event);
    return this.get(id);
  }

  /** A live (not deleted) subscription. */
  get(id: string): WebhookSubscription | undefined {
    const found = this.subscriptions.get(id);
    return found && !found.deleted ? found : undefined;
  }

  /** Every live subscription, oldest first. */
  list(): WebhookSubscription[] {
    return [...this.subscriptions.values()].filter((s) => !s.deleted).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** Calls `listener` with each subscription as it changes (deleted ones too, marked so). */
  onChange(listener: (subscription: WebhookSubscription) => void): void {
    this.listeners.push(listener);
  }
}
