import { ConfigError, describeSmtpUrl, loadConfig } from './config';

describe('mail settings', () => {
  it('has no SMTP server by default and a From to fall back on', () => {
    const config = loadConfig({});
    expect(config.smtpUrl).toBeUndefined();
    expect(config.mailFrom).toMatch(/@/);
  });

  it('reads MRW_SMTP_URL and MRW_MAIL_FROM', () => {
    const config = loadConfig({ MRW_SMTP_URL: 'smtp://mailer:pa55@mail.example.com:587', MRW_MAIL_FROM: 'Registry <registry@example.com>' });
    expect(config.smtpUrl).toBe('smtp://mailer:pa55@mail.example.com:587');
    expect(config.mailFrom).toBe('Registry <registry@example.com>');
  });

  it.each([['https://user:hunter2-secret@mail.example.com'], ['not a url hunter2-secret'], ['smtp://']])(
    'refuses %s without echoing it (it may hold a password)',
    (value) => {
      let error: unknown;
      try {
        loadConfig({ MRW_SMTP_URL: value });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/MRW_SMTP_URL/);
      expect((error as Error).message).not.toMatch(/hunter2/);
    },
  );

  it('describes an SMTP URL by scheme, host and port only', () => {
    expect(describeSmtpUrl('smtps://mailer:pa55@mail.example.com:465')).toBe('smtps://mail.example.com:465');
  });
});
