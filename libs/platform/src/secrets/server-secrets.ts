import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIN_SECRET_LENGTH, ConfigError, type SuiteConfig } from '../config/config';

/**
 * Keys derived from the one server secret, one per purpose (HKDF-SHA256), so a key used to
 * verify tokens is never the key that encrypts a setting or signs a link.
 */
export class ServerSecrets {
  private readonly tokenKey: Buffer;
  private readonly commandKey: Buffer;

  constructor(private readonly secret: string) {
    if (secret.length < MIN_SECRET_LENGTH) throw new ConfigError(`the server secret must be at least ${MIN_SECRET_LENGTH} characters`);
    this.tokenKey = this.derive('token-verifier');
    this.commandKey = this.derive('command-signing');
  }

  /** A 32-byte key for one purpose; the same secret and purpose always give the same key. */
  derive(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.secret, 'mrw-server-secret', purpose, 32));
  }

  /**
   * What is stored to recognise a bearer secret: HMAC-SHA256 under the token key, hex. Without
   * the server secret a copy of the log gives nothing to guess a chosen token against.
   */
  tokenVerifier(bearerSecret: string): string {
    return createHmac('sha256', this.tokenKey).update(bearerSecret, 'utf8').digest('hex');
  }

  /**
   * The signature a token holder puts on a command it sends over Kafka, instead of its
   * secret: keyed by its verifier and the server secret, so the registry can check it, a
   * copy of the log cannot forge it, and the topic never carries anything to replay
   * elsewhere. base64url of HMAC-SHA256 over the message value.
   */
  signCommand(verifier: string, value: string): string {
    return createHmac('sha256', this.commandSigningKey(verifier)).update(value, 'utf8').digest('base64url');
  }

  /**
   * The key `signCommand` signs with for one token: what a producer outside the suite (a
   * training platform, which has no server secret) is given to sign its messages with.
   */
  commandSigningKey(verifier: string): Buffer {
    return createHmac('sha256', this.commandKey).update(verifier, 'utf8').digest();
  }
}

export const SECRET_KEY_FILE = 'secret-key';

/**
 * The server secret: `MRW_SECRET_KEY`, else (embedded mode) the one in `<data>/secret-key`,
 * generated with mode 600 on the first start. Back that file up apart from the event log:
 * whoever holds both can test guesses of chosen tokens.
 */
export const loadServerSecrets = (config: Pick<SuiteConfig, 'secretKey' | 'dataDir'>): ServerSecrets => {
  if (config.secretKey) return new ServerSecrets(config.secretKey);
  const file = join(config.dataDir, SECRET_KEY_FILE);
  let secret: string;
  try {
    secret = readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    secret = randomBytes(32).toString('base64url');
    mkdirSync(config.dataDir, { recursive: true });
    // `wx`: two processes starting on one new data directory cannot both write a key.
    try {
      writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600);
    } catch (raced) {
      if ((raced as NodeJS.ErrnoException).code !== 'EEXIST') throw raced;
      secret = readFileSync(file, 'utf8').trim();
    }
  }
  if (secret.length < MIN_SECRET_LENGTH) throw new ConfigError(`${file} holds no usable server secret: delete it or set MRW_SECRET_KEY`);
  return new ServerSecrets(secret);
};
