import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config/config';
import { loadServerSecrets, SECRET_KEY_FILE, ServerSecrets } from './server-secrets';

const KEY_A = 'a'.repeat(32);
const KEY_B = 'b'.repeat(32);

describe('server secrets', () => {
  it('keys token verifiers: the same secret under two server secrets gives two verifiers, neither its sha256', () => {
    const chosen = 'correct-horse-battery-staple-2026';
    const a = new ServerSecrets(KEY_A).tokenVerifier(chosen);
    expect(a).toBe(new ServerSecrets(KEY_A).tokenVerifier(chosen));
    expect(a).not.toBe(new ServerSecrets(KEY_B).tokenVerifier(chosen));
    expect(a).not.toBe(createHash('sha256').update(chosen).digest('hex'));
  });

  it('derives a different key per purpose', () => {
    const secrets = new ServerSecrets(KEY_A);
    expect(secrets.derive('webhook-secrets').equals(secrets.derive('signed-links'))).toBe(false);
    expect(secrets.derive('signed-links')).toHaveLength(32);
  });

  it('generates one under the data directory on first start (mode 600) and reuses it after', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mrw-secrets-'));
    const first = loadServerSecrets({ secretKey: undefined, dataDir });
    const file = join(dataDir, SECRET_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim().length).toBeGreaterThanOrEqual(32);
    expect(loadServerSecrets({ secretKey: undefined, dataDir }).tokenVerifier('x')).toBe(first.tokenVerifier('x'));
    expect(loadServerSecrets({ secretKey: KEY_A, dataDir }).tokenVerifier('x')).not.toBe(first.tokenVerifier('x'));
  });
});

describe('configured secrets', () => {
  it('refuses an MRW_ADMIN_TOKEN shorter than 32 characters, saying how to make one', () => {
    expect(() => loadConfig({ MRW_ADMIN_TOKEN: 'admin-secret' })).toThrow(ConfigError);
    expect(() => loadConfig({ MRW_ADMIN_TOKEN: 'admin-secret' })).toThrow(/MRW_ADMIN_TOKEN is 12 characters; it must be at least 32.*openssl rand/);
    expect(loadConfig({ MRW_ADMIN_TOKEN: KEY_A }).adminToken).toBe(KEY_A);
  });

  it('refuses a short MRW_SECRET_KEY, and a distributed suite without one', () => {
    expect(() => loadConfig({ MRW_SECRET_KEY: 'short' })).toThrow(/MRW_SECRET_KEY is 5 characters/);
    expect(() => loadConfig({ MRW_BUS: 'kafka' })).toThrow(/MRW_BUS=kafka needs MRW_SECRET_KEY/);
    expect(loadConfig({ MRW_BUS: 'kafka', MRW_SECRET_KEY: KEY_B }).secretKey).toBe(KEY_B);
  });
});
