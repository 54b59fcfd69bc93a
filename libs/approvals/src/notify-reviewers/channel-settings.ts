import type { OutboundHttp } from '@mrw/outbound';
import { SecretBox, SecretBoxError, type Clock } from '@mrw/platform';
import type { EmailChannel } from './email.channel';
import { NotificationDeliveryError, type ChannelSetting, type NotificationChannel } from './notification-channel';
import { SlackChannel } from './slack.channel';
import { TeamsChannel } from './teams.channel';
import { WebhookChannel } from './webhook.channel';

/** What a channel is built with: the guarded HTTP client, the clock, and the email channel when SMTP is configured. */
export interface ChannelDependencies {
  readonly http: OutboundHttp;
  readonly clock: Clock;
  readonly email: EmailChannel | undefined;
}

const refused = (kind: ChannelSetting['kind'] | 'unknown', message: string): NotificationDeliveryError =>
  new NotificationDeliveryError('DELIVERY_REJECTED', kind === 'unknown' ? 'webhook' : kind, '(setting)', message, { transient: false });

/** Where stored secrets are opened from: the policy key, and the environment for `…Env` references. */
export interface SettingSecrets {
  readonly box: SecretBox;
  readonly env: Readonly<Record<string, string | undefined>>;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** A secret given as a sealed value (`field`) or as the name of an environment variable (`field` + `Env`). */
const secretField = (secrets: SettingSecrets, kind: ChannelSetting['kind'], setting: Record<string, unknown>, name: string): string => {
  const value = setting[name];
  const envName = setting[`${name}Env`];
  if (typeof value === 'string' && value !== '') {
    // Secrets are written encrypted; one in the clear means the policy was stored around the SecretBox.
    if (!SecretBox.isEncrypted(value)) throw refused(kind, `the ${kind} channel's ${name} is stored in the clear; set the policy again`);
    try {
      return secrets.box.decrypt(value);
    } catch (error) {
      if (error instanceof SecretBoxError) throw refused(kind, `the ${kind} channel's ${name} cannot be decrypted (${error.message})`);
      throw error;
    }
  }
  if (typeof envName === 'string' && ENV_NAME.test(envName)) {
    const fromEnv = secrets.env[envName];
    if (!fromEnv) throw refused(kind, `the ${kind} channel's ${name} is to come from ${envName}, which is not set`);
    return fromEnv;
  }
  throw refused(kind, `the ${kind} channel has no ${name} (nor ${name}Env)`);
};

/**
 * A channel of a policy's `notify` list as stored (secrets as `enc:v1:` values or named
 * environment variables) made usable: its secrets in the clear. Throws a permanent
 * NotificationDeliveryError (no secret in it) when the setting is malformed or a secret cannot
 * be had.
 */
export const openChannelSetting = (stored: unknown, secrets: SettingSecrets): ChannelSetting => {
  const setting = (typeof stored === 'object' && stored !== null ? stored : {}) as Record<string, unknown>;
  switch (setting['kind']) {
    case 'email':
      return { kind: 'email' };
    case 'slack':
      return { kind: 'slack', webhookUrl: secretField(secrets, 'slack', setting, 'webhookUrl') };
    case 'teams':
      return { kind: 'teams', webhookUrl: secretField(secrets, 'teams', setting, 'webhookUrl') };
    case 'webhook': {
      const url = setting['url'];
      if (typeof url !== 'string' || url === '') throw refused('webhook', 'the webhook channel has no url');
      return { kind: 'webhook', url, secret: secretField(secrets, 'webhook', setting, 'secret') };
    }
    default:
      throw refused('unknown', `not a notification channel kind: ${JSON.stringify(String(setting['kind'])).slice(0, 40)}`);
  }
};

/** The channel a setting names; an email setting without a configured SMTP server is refused (permanently). */
export const createChannel = (setting: ChannelSetting, deps: ChannelDependencies): NotificationChannel => {
  switch (setting.kind) {
    case 'email':
      if (!deps.email) throw refused('email', 'no SMTP server is configured (MRW_SMTP_URL)');
      return deps.email;
    case 'slack':
      return new SlackChannel(setting, deps.http);
    case 'teams':
      return new TeamsChannel(setting, deps.http);
    case 'webhook':
      return new WebhookChannel(setting, deps.http, deps.clock);
    default: {
      const never: never = setting;
      return never;
    }
  }
};
