import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { ServerSecrets } from './server-secrets';

/** The prefix of a value sealed by the SecretBox; the version names the algorithm and layout. */
export const ENCRYPTED_PREFIX = 'enc:v1:';

/** The server-secret purpose whose key seals secrets stored in policies (chat webhook URLs, signing secrets). */
export const POLICY_SECRETS_PURPOSE = 'policy-secrets';

const IV_BYTES = 12;
const TAG_BYTES = 16;
// Bound into the tag, so a ciphertext cannot be replayed under another version's layout.
const AAD = Buffer.from('mrw:enc:v1', 'utf8');

/** A sealed value could not be opened: not sealed, an unknown version, tampered with, or sealed under another key. */
export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
  readonly code = 'SECRET_UNREADABLE';
  // Another key or a changed value stays that way however often it is tried.
  readonly permanent = true;
}

/**
 * Write-only settings: a secret given in a policy is sealed before it is stored (AES-256-GCM,
 * random 96-bit IV, `enc:v1:<base64url(iv ‖ ciphertext ‖ tag)>`), so the event log and every
 * projection hold only the sealed form; the service that uses the secret opens it.
 */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error(`a SecretBox key is 32 bytes, not ${key.length}`);
  }

  /** The box keyed by the server secret's `policy-secrets` key: the same in every process of one suite. */
  static forPolicySecrets(secrets: Pick<ServerSecrets, 'derive'>): SecretBox {
    return new SecretBox(secrets.derive(POLICY_SECRETS_PURPOSE));
  }

  /** Whether a value is in the sealed form (says nothing about whether it opens). */
  static isEncrypted(value: unknown): value is string {
    return typeof value === 'string' && value.startsWith(ENCRYPTED_PREFIX);
  }

  /** Encrypts a secret; encrypting one value twice gives two different strings. */
  encrypt(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(AAD);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${ENCRYPTED_PREFIX}${Buffer.concat([iv, ciphertext, cipher.getAuthTag()]).toString('base64url')}`;
  }

  /** Decrypts a sealed value; throws SecretBoxError (never the value) when it cannot. */
  decrypt(sealed: string): string {
    if (!SecretBox.isEncrypted(sealed)) {
      throw new SecretBoxError(/^enc:v\d+:/.test(sealed) ? 'a sealed secret of an unknown version' : 'not a sealed secret');
    }
    const encoded = sealed.slice(ENCRYPTED_PREFIX.length);
    if (!/^[A-Za-z0-9_-]*$/.test(encoded)) throw new SecretBoxError('a sealed secret that is not base64url');
    const bytes = Buffer.from(encoded, 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES) throw new SecretBoxError('a sealed secret too short to hold one');
    const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(AAD);
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError('a sealed secret that was changed or sealed under another server secret');
    }
  }
}

/** What a sealed value is shown as. */
export const ENCRYPTED_VIEW = '[encrypted]';

/** Settings whose plain values are secrets wherever they appear in a policy or a channel. */
export const SECRET_SETTING_FIELDS: readonly string[] = ['webhookUrl', 'secret', 'signingSecret', 'token', 'apiToken', 'password'];

const redactedUrl = (value: string): string => {
  try {
    const url = new URL(value);
    if (url.protocol === 'https:' || url.protocol === 'http:') return `${url.protocol}//${url.host}/…[redacted]`;
    return '[redacted]';
  } catch {
    return '[redacted]';
  }
};

/**
 * A copy of a setting for people to read: every sealed value shown as `[encrypted]`, and a plain
 * value of a secret field (SECRET_SETTING_FIELDS) as its scheme and host only (`https://hooks.slack.com/…[redacted]`)
 * or `[redacted]`. (Log records have `redactSecrets` in @mrw/logging; this is for responses.)
 */
export const redactSecretSettings = <T>(value: T, fields: readonly string[] = SECRET_SETTING_FIELDS): T => {
  const secretFields = new Set(fields.map((f) => f.toLowerCase()));
  const walk = (item: unknown, secretField: boolean, depth: number): unknown => {
    if (SecretBox.isEncrypted(item)) return ENCRYPTED_VIEW;
    if (typeof item === 'string') return secretField ? redactedUrl(item) : item;
    if (item === null || typeof item !== 'object' || depth > 32) return item;
    if (Array.isArray(item)) return item.map((entry) => walk(entry, secretField, depth + 1));
    return Object.fromEntries(Object.entries(item).map(([key, entry]) => [key, walk(entry, secretFields.has(key.toLowerCase()), depth + 1)]));
  };
  return walk(value, false, 0) as T;
};
