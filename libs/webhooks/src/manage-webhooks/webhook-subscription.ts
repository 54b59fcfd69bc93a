import type { Actor } from '@mrw/contracts';

/**
 * A webhook subscription as its private stream `webhook-<id>` records it: the settings its
 * owner chose, its signing secrets (sealed), and its health as deliveries found it. Pure: the
 * events and their fold.
 */

/** `ACTIVE` delivers; `TEST_MODE` only answers `POST /webhooks/{id}/test`; `DISABLED` delivers nothing. */
export const WEBHOOK_STATUSES = ['ACTIVE', 'DISABLED', 'TEST_MODE'] as const;
export type WebhookStatus = (typeof WEBHOOK_STATUSES)[number];
/** `FAILING` once a delivery was dead-lettered, until one succeeds again. */
export type WebhookHealth = 'HEALTHY' | 'FAILING';

/** What the owner sets. `model` null: every model's events (registry-wide). */
export interface WebhookSettings {
  /** Where messages go; in events and folds it is sealed (SecretBox), as chat webhook URLs carry secrets. */
  readonly url: string;
  readonly description: string;
  readonly events: readonly string[];
  readonly model: string | null;
  readonly status: WebhookStatus;
}

export type WebhookEvent =
  | {
      readonly type: 'WebhookCreated';
      readonly data: WebhookSettings & {
        readonly id: string;
        readonly owner: Actor;
        /** The signing secret, sealed (SecretBox): never in an answer, a topic or a log. */
        readonly secret: string;
        /** The log position when it was created: its deliveries start after it (a new subscription gets no history). */
        readonly startAfter: string;
      };
    }
  | { readonly type: 'WebhookUpdated'; readonly data: { readonly changes: Partial<WebhookSettings>; readonly reason?: string } }
  | {
      readonly type: 'WebhookSecretRotated';
      readonly data: { readonly secret: string; readonly previous: string; readonly previousUntil: string };
    }
  | { readonly type: 'WebhookHealthChanged'; readonly data: { readonly health: WebhookHealth; readonly reason: string } }
  /** History since `since` asked for again (`POST /webhooks/{id}/replay`): whichever registry process delivers runs it. */
  | { readonly type: 'WebhookReplayRequested'; readonly data: { readonly replayId: string; readonly since: string } }
  | { readonly type: 'WebhookDeleted'; readonly data: Record<string, never> };

export const WEBHOOK_EVENT_TYPES: ReadonlyArray<WebhookEvent['type']> = [
  'WebhookCreated',
  'WebhookUpdated',
  'WebhookSecretRotated',
  'WebhookHealthChanged',
  'WebhookReplayRequested',
  'WebhookDeleted',
];

export interface WebhookSubscription extends WebhookSettings {
  readonly id: string;
  readonly owner: Actor;
  readonly secret: string;
  /** The secret before the last rotation, still signing beside the new one until `until`. */
  readonly previousSecret: { readonly secret: string; readonly until: string } | null;
  readonly health: WebhookHealth;
  readonly healthReason: string | null;
  /** Since when it is FAILING (null while healthy). */
  readonly failingSince: string | null;
  readonly startAfter: bigint;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The stream revision folded: the expected revision of the next append. */
  readonly revision: number;
  readonly deleted: boolean;
}

/** Folds one event of a subscription's stream (undefined before its first). */
export const evolveWebhook = (
  state: WebhookSubscription | undefined,
  event: { readonly type: string; readonly data: unknown; readonly revision: number; readonly at: string },
): WebhookSubscription | undefined => {
  const e = event as unknown as WebhookEvent;
  if (e.type === 'WebhookCreated') {
    const { id, owner, secret, startAfter, url, description, events, model, status } = e.data;
    return {
      id,
      owner,
      url,
      description,
      events,
      model,
      status,
      secret,
      previousSecret: null,
      health: 'HEALTHY',
      healthReason: null,
      failingSince: null,
      startAfter: BigInt(startAfter),
      createdAt: event.at,
      updatedAt: event.at,
      revision: event.revision,
      deleted: false,
    };
  }
  if (!state) return undefined;
  const next = { ...state, revision: event.revision, updatedAt: event.at };
  switch (e.type) {
    case 'WebhookUpdated':
      return { ...next, ...e.data.changes };
    case 'WebhookSecretRotated':
      return { ...next, secret: e.data.secret, previousSecret: { secret: e.data.previous, until: e.data.previousUntil } };
    case 'WebhookHealthChanged':
      return {
        ...next,
        health: e.data.health,
        healthReason: e.data.health === 'FAILING' ? e.data.reason : null,
        failingSince: e.data.health === 'FAILING' ? (state.failingSince ?? event.at) : null,
      };
    case 'WebhookReplayRequested':
      return next;
    case 'WebhookDeleted':
      return { ...next, deleted: true };
    default:
      return next;
  }
};

/** The settings a change actually changes (an empty object: nothing to record). */
export const settingsChanged = (current: WebhookSettings, wanted: Partial<WebhookSettings>): Partial<WebhookSettings> => {
  const changes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(wanted) as Array<[keyof WebhookSettings, unknown]>) {
    if (value === undefined) continue;
    if (JSON.stringify(current[key]) !== JSON.stringify(value)) changes[key] = value;
  }
  return changes as Partial<WebhookSettings>;
};

/** Whether a subscription wants an event of `model` named with any of `names`; the names it wants, most specific first. */
export const wantedNames = (subscription: Pick<WebhookSettings, 'events' | 'model'>, model: string | undefined, names: readonly string[]): string[] => {
  if (subscription.model !== null && subscription.model !== model) return [];
  return names.filter((name) => subscription.events.includes(name));
};
