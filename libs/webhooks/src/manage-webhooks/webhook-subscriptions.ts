import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { deriveId, webhookNoticeStream, webhookStream, type Actor, type WebhookDisabled } from '@mrw/contracts';
import { EVENT_STORE, WrongExpectedRevisionError, type EventStore } from '@mrw/event-store';
import { CLOCK, newEventMetadata, ProblemException, SecretBox, ServerSecrets, type Clock } from '@mrw/platform';
import { WebhookDirectory } from './webhook-directory';
import { settingsChanged, type WebhookEvent, type WebhookHealth, type WebhookSettings, type WebhookSubscription } from './webhook-subscription';

const ATTEMPTS = 5;
/** The suite's own actor for what deliveries decide (a subscription flagged FAILING, disabled). */
export const DELIVERY_ACTOR: Actor = { kind: 'service', id: 'registry' };

/** A fresh signing secret in the Standard Webhooks form (`whsec_` + base64 of 24 random bytes). */
const newSecret = (): string => `whsec_${randomBytes(24).toString('base64')}`;

/**
 * Writes webhook subscriptions: each change one event in `webhook-<id>`, appended at the
 * revision it was decided on (a concurrent change is decided again on fresh state). Signing
 * secrets are sealed before they are written, so the log holds only their sealed form.
 */
@Injectable()
export class WebhookSubscriptions {
  private readonly box: SecretBox;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly directory: WebhookDirectory,
    @Inject(CLOCK) private readonly clock: Clock,
    secrets: ServerSecrets,
  ) {
    this.box = SecretBox.forPolicySecrets(secrets);
  }

  /** Creates a subscription; without a secret one is generated and returned (shown once). */
  async create(settings: WebhookSettings, secret: string | undefined, owner: Actor): Promise<{ subscription: WebhookSubscription; generatedSecret?: string }> {
    const id = randomUUID();
    const signing = secret ?? newSecret();
    const startAfter = await this.store.headPosition();
    await this.append(id, -1, {
      type: 'WebhookCreated',
      data: { id, owner, ...settings, url: this.box.encrypt(settings.url), secret: this.box.encrypt(signing), startAfter: startAfter.toString() },
    }, owner);
    const subscription = (await this.directory.refresh(id)) as WebhookSubscription;
    return secret === undefined ? { subscription, generatedSecret: signing } : { subscription };
  }

  /** Changes settings; a new secret rotates, the old one signing beside it for `overlapMs`. */
  async update(id: string, wanted: Partial<WebhookSettings>, rotation: { secret: string; overlapMs: number } | undefined, actor: Actor): Promise<WebhookSubscription> {
    return this.change(id, actor, (current) => {
      const events: WebhookEvent[] = [];
      // The URL is kept sealed: compared in the clear, and sealed again only when it changes.
      const { url, ...rest } = wanted;
      const changes: Partial<WebhookSettings> = settingsChanged(current, rest);
      if (url !== undefined && url !== this.urlOf(current)) Object.assign(changes, { url: this.box.encrypt(url) });
      if (Object.keys(changes).length > 0) events.push({ type: 'WebhookUpdated', data: { changes } });
      if (rotation) {
        const until = new Date(this.clock.now().getTime() + rotation.overlapMs).toISOString();
        events.push({ type: 'WebhookSecretRotated', data: { secret: this.box.encrypt(rotation.secret), previous: current.secret, previousUntil: until } });
      }
      return events;
    });
  }

  async delete(id: string, actor: Actor): Promise<void> {
    await this.change(id, actor, () => [{ type: 'WebhookDeleted', data: {} }]);
  }

  /** Records a replay asked for (its rows are in the delivery book): the leader, on whichever replica, hears of it from the log. */
  async noteReplay(id: string, replay: { replayId: string; since: string }, actor: Actor): Promise<void> {
    await this.change(id, actor, () => [{ type: 'WebhookReplayRequested', data: replay }], { missingIsFine: true });
  }

  /** Records what deliveries found (FAILING after a dead letter, HEALTHY after a success); nothing when it already says so. */
  async flag(id: string, health: WebhookHealth, reason: string): Promise<void> {
    await this.change(id, DELIVERY_ACTOR, (current) => (current.health === health ? [] : [{ type: 'WebhookHealthChanged', data: { health, reason } }]), { missingIsFine: true });
  }

  /**
   * Disables a subscription that kept failing (`reason`: why its last delivery died), and tells
   * its owner through a published `WebhookDisabled`. Nothing when it is already disabled or
   * healthy again. The notice goes first: a crash between the two appends repeats it on the next
   * dead letter (deduplicated by its id) instead of leaving a disabled subscription nobody heard of.
   * Its id derives from the failing spell and the revision the disable was first decided at, so
   * a retry tells nothing twice while a subscription turned on again and disabled again is told again.
   */
  async disableForFailures(id: string, reason: string): Promise<void> {
    let decidedAt: number | undefined;
    await this.change(
      id,
      DELIVERY_ACTOR,
      async (current) => {
        if (current.status === 'DISABLED' || current.failingSince === null) return [];
        decidedAt ??= current.revision;
        const since = current.failingSince;
        await this.noticeDisabled(current, since, reason, deriveId(current.id, `WebhookDisabled@${since}#${decidedAt}`));
        return [{ type: 'WebhookUpdated', data: { changes: { status: 'DISABLED' }, reason: `failing since ${since}: ${reason}` } }];
      },
      { missingIsFine: true },
    );
  }

  /** A subscription's URL in the clear, for sending (write-only: never shown). */
  urlOf(subscription: WebhookSubscription): string {
    return this.box.decrypt(subscription.url);
  }

  /** The signing secrets of a subscription now, newest first (the previous one only within its overlap). */
  signingSecrets(subscription: WebhookSubscription): string[] {
    const secrets = [this.box.decrypt(subscription.secret)];
    const previous = subscription.previousSecret;
    if (previous && Date.parse(previous.until) > this.clock.now().getTime()) secrets.push(this.box.decrypt(previous.secret));
    return secrets;
  }

  private async change(
    id: string,
    actor: Actor,
    decide: (current: WebhookSubscription) => WebhookEvent[] | Promise<WebhookEvent[]>,
    options: { readonly missingIsFine?: boolean } = {},
  ): Promise<WebhookSubscription> {
    for (let attempt = 1; ; attempt += 1) {
      const current = await this.directory.refresh(id);
      if (!current) {
        if (options.missingIsFine) return undefined as unknown as WebhookSubscription;
        throw new ProblemException('WEBHOOK_NOT_FOUND', `no webhook ${id}`, {}, 404);
      }
      const events = await decide(current);
      if (events.length === 0) return current;
      try {
        for (const [i, event] of events.entries()) await this.append(id, current.revision + i, event, actor);
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        if (attempt >= ATTEMPTS) throw new ProblemException('CONCURRENCY_CONFLICT', `webhook ${id} kept changing; retry the request`, {}, 409);
        continue;
      }
      return (await this.directory.refresh(id)) as WebhookSubscription;
    }
  }

  /** `WebhookDisabled` in `webhookNotice-<id>` with the given event id (appended once: the store deduplicates by it). */
  private async noticeDisabled(subscription: WebhookSubscription, failingSince: string, reason: string, eventId: string): Promise<void> {
    const data: WebhookDisabled['data'] = {
      webhookId: subscription.id,
      owner: subscription.owner,
      model: subscription.model,
      urlOrigin: new URL(this.urlOf(subscription)).origin,
      reason,
      failingSince,
      events: [...subscription.events],
    };
    const metadata = { ...newEventMetadata(this.clock, DELIVERY_ACTOR), eventId };
    await this.store.appendToStream(webhookNoticeStream(subscription.id), [{ type: 'WebhookDisabled', data, metadata }], { expectedRevision: 'any' });
  }

  private async append(id: string, revision: number, event: WebhookEvent, actor: Actor): Promise<void> {
    await this.store.appendToStream(webhookStream(id), [{ type: event.type, data: event.data, metadata: newEventMetadata(this.clock, actor) }], {
      expectedRevision: revision < 0 ? 'no_stream' : revision,
    });
  }
}
