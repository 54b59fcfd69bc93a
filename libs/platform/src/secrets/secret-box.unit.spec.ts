import { failureKind } from '@mrw/resilience';
import { redactSecretSettings, SecretBox, SecretBoxError } from './secret-box';
import { ServerSecrets } from './server-secrets';

const SLACK_URL = 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX';
const box = SecretBox.forPolicySecrets(new ServerSecrets('a'.repeat(32)));

const failure = (work: () => unknown): SecretBoxError => {
  try {
    work();
  } catch (error) {
    if (error instanceof SecretBoxError) return error;
    throw error;
  }
  throw new Error('expected a SecretBoxError');
};

describe('SecretBox', () => {
  it('encrypts to a versioned string that holds nothing of the secret, and decrypts it back', () => {
    const sealed = box.encrypt(SLACK_URL);
    expect(sealed).toMatch(/^enc:v1:[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('hooks.slack.com');
    expect(SecretBox.isEncrypted(sealed)).toBe(true);
    expect(box.decrypt(sealed)).toBe(SLACK_URL);
  });

  it('encrypts one value twice as two strings (a random IV each time)', () => {
    expect(box.encrypt('s3cret')).not.toBe(box.encrypt('s3cret'));
  });

  it('opens with the same server secret in another process (the key is derived, not random)', () => {
    const elsewhere = SecretBox.forPolicySecrets(new ServerSecrets('a'.repeat(32)));
    expect(elsewhere.decrypt(box.encrypt('shared'))).toBe('shared');
  });

  it('refuses a value sealed under another server secret', () => {
    const other = SecretBox.forPolicySecrets(new ServerSecrets('b'.repeat(32)));
    const error = failure(() => other.decrypt(box.encrypt(SLACK_URL)));
    expect(error.message).toMatch(/another server secret/);
    expect(error.message).not.toContain('hooks.slack.com');
    expect(failureKind(error)).toBe('permanent');
  });

  it('refuses a value whose any byte was changed', () => {
    const sealed = box.encrypt(SLACK_URL);
    const body = Buffer.from(sealed.slice('enc:v1:'.length), 'base64url');
    for (const at of [0, 12, body.length - 1]) {
      const changed = Buffer.from(body);
      changed[at] = changed[at]! ^ 0x01;
      expect(() => box.decrypt(`enc:v1:${changed.toString('base64url')}`)).toThrow(SecretBoxError);
    }
  });

  it.each([
    [SLACK_URL, /not a sealed secret/],
    ['enc:v2:AAAA', /unknown version/],
    ['enc:v1:AAAA', /too short/],
    ['enc:v1:not base64!', /not base64url/],
  ])('refuses %s', (value, message) => {
    expect(failure(() => box.decrypt(value)).message).toMatch(message);
  });

  it('is keyed by 32 bytes only', () => {
    expect(() => new SecretBox(Buffer.alloc(16))).toThrow(/32 bytes/);
  });
});

describe('redactSecretSettings', () => {
  it('shows sealed values as [encrypted] and plain secret fields by host only, leaving the rest', () => {
    const policy = {
      approval: {
        Production: {
          required: 1,
          notify: [
            { kind: 'email' },
            { kind: 'slack', webhookUrl: box.encrypt(SLACK_URL) },
            { kind: 'teams', webhookUrl: 'https://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=XYZ' },
            { kind: 'webhook', url: 'https://hooks.example.com/mrw', secret: 'whsec_plain' },
          ],
        },
      },
    };
    expect(redactSecretSettings(policy)).toEqual({
      approval: {
        Production: {
          required: 1,
          notify: [
            { kind: 'email' },
            { kind: 'slack', webhookUrl: '[encrypted]' },
            { kind: 'teams', webhookUrl: 'https://prod-01.westeurope.logic.azure.com/…[redacted]' },
            { kind: 'webhook', url: 'https://hooks.example.com/mrw', secret: '[redacted]' },
          ],
        },
      },
    });
    // The input is left as it was.
    expect(policy.approval.Production.notify[3]).toEqual({ kind: 'webhook', url: 'https://hooks.example.com/mrw', secret: 'whsec_plain' });
  });
});
