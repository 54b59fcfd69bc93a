import { AddressPolicy, OutboundHttp } from '@mrw/outbound';
import { SecretBox, ServerSecrets, systemClock } from '@mrw/platform';
import { failureKind } from '@mrw/resilience';
import { createChannel, openChannelSetting, type SettingSecrets } from './channel-settings';
import { EmailChannel } from './email.channel';
import { NotificationDeliveryError } from './notification-channel';
import { SlackChannel } from './slack.channel';
import { WebhookChannel } from './webhook.channel';

const SLACK_URL = 'https://hooks.slack.com/services/T0001/B0002/slackTokenDoNotLog';
const box = SecretBox.forPolicySecrets(new ServerSecrets('k'.repeat(32)));
const secrets: SettingSecrets = { box, env: { MRW_TEAMS_HOOK: 'https://prod.example.logic.azure.com/workflows/x?sig=teamsSig' } };

const refusal = (work: () => unknown): NotificationDeliveryError => {
  try {
    work();
  } catch (error) {
    if (error instanceof NotificationDeliveryError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('openChannelSetting', () => {
  it('decrypts sealed secrets and reads ones named by an environment variable', () => {
    expect(openChannelSetting({ kind: 'slack', webhookUrl: box.encrypt(SLACK_URL) }, secrets)).toEqual({ kind: 'slack', webhookUrl: SLACK_URL });
    expect(openChannelSetting({ kind: 'teams', webhookUrlEnv: 'MRW_TEAMS_HOOK' }, secrets)).toEqual({
      kind: 'teams',
      webhookUrl: 'https://prod.example.logic.azure.com/workflows/x?sig=teamsSig',
    });
    expect(openChannelSetting({ kind: 'webhook', url: 'https://hooks.example.com/in', secret: box.encrypt('whsec_abc') }, secrets)).toEqual({
      kind: 'webhook',
      url: 'https://hooks.example.com/in',
      secret: 'whsec_abc',
    });
    expect(openChannelSetting({ kind: 'email' }, secrets)).toEqual({ kind: 'email' });
  });

  it.each([
    ['a secret stored in the clear', { kind: 'slack', webhookUrl: SLACK_URL }, /stored in the clear/],
    ['a secret sealed under another server secret', { kind: 'slack', webhookUrl: SecretBox.forPolicySecrets(new ServerSecrets('o'.repeat(32))).encrypt(SLACK_URL) }, /cannot be decrypted/],
    ['an unset environment variable', { kind: 'teams', webhookUrlEnv: 'MRW_UNSET_HOOK' }, /MRW_UNSET_HOOK, which is not set/],
    ['a webhook without a secret', { kind: 'webhook', url: 'https://hooks.example.com/in' }, /no secret/],
    ['an unknown kind', { kind: 'pager' }, /not a notification channel kind/],
  ])('refuses %s permanently, without the secret in the message', (_, stored, message) => {
    const error = refusal(() => openChannelSetting(stored, secrets));
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('slackTokenDoNotLog');
    expect(failureKind(error)).toBe('permanent');
  });
});

describe('createChannel', () => {
  const http = new OutboundHttp({ policy: AddressPolicy.fromSetting('') });

  it('builds the channel a setting names', () => {
    expect(createChannel({ kind: 'slack', webhookUrl: SLACK_URL }, { http, clock: systemClock, email: undefined })).toBeInstanceOf(SlackChannel);
    expect(createChannel({ kind: 'webhook', url: 'https://h.example.com/', secret: 's' }, { http, clock: systemClock, email: undefined })).toBeInstanceOf(WebhookChannel);
    const email = new EmailChannel({ smtpUrl: 'smtp://u:p@mail.example.com:587', from: 'r@example.com' });
    expect(createChannel({ kind: 'email' }, { http, clock: systemClock, email })).toBe(email);
    email.close();
  });

  it('describes a chat channel by its host only', () => {
    expect(createChannel({ kind: 'slack', webhookUrl: SLACK_URL }, { http, clock: systemClock, email: undefined }).target).toBe('hooks.slack.com');
  });

  it('refuses email when no SMTP server is configured', () => {
    expect(refusal(() => createChannel({ kind: 'email' }, { http, clock: systemClock, email: undefined })).message).toMatch(/MRW_SMTP_URL/);
  });
});
