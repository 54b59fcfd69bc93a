import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { deriveId, ROLES, type Actor, type CommandMetadata, type Role } from '@mrw/contracts';
import { CLOCK, ConfigError, MIN_SECRET_LENGTH, SUITE_CONFIG, TokenDirectory, TokenFeed, type Clock, type SuiteConfig } from '@mrw/platform';
import { TokenIssuer } from './token-issuer';

const REGISTRY: Actor = { kind: 'service', id: 'registry' };

interface SeedToken {
  subject: string;
  roles: Role[];
  models?: string[];
  kind?: 'user' | 'service';
  token: string;
}

/**
 * The first admin: `MRW_ADMIN_TOKEN` when set; otherwise, on the first start only, a token is
 * generated, written to `<data>/admin-token` (mode 600) and printed once. Seeds from
 * `MRW_SEED_TOKENS_FILE` are issued when their secret is not known yet.
 */
@Injectable()
export class TokenBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('tokens');

  constructor(
    private readonly feed: TokenFeed,
    private readonly directory: TokenDirectory,
    private readonly issuer: TokenIssuer,
    @Inject(SUITE_CONFIG) private readonly config: SuiteConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.feed.caughtUp();
    if (this.config.adminToken) {
      await this.ensure({ subject: 'admin', roles: ['admin'], token: this.config.adminToken });
    } else if (!this.directory.hasActiveAdmin()) {
      const { secret } = await this.issuer.issue(
        { subject: 'admin', kind: 'user', roles: ['admin'], models: [] },
        this.metadata(randomUUID()),
      );
      const file = join(this.config.dataDir, 'admin-token');
      await mkdir(this.config.dataDir, { recursive: true });
      await writeFile(file, `${secret}\n`, { mode: 0o600 });
      await chmod(file, 0o600);
      process.stdout.write(
        `\n  First start: an admin token was created. It is shown only this once\n` +
          `  (and kept in ${file}, readable by this user only):\n\n    ${secret}\n\n`,
      );
    }
    for (const seed of await this.seeds()) await this.ensure(seed);
  }

  private async ensure(seed: SeedToken): Promise<void> {
    if (this.directory.authenticate(seed.token)) return;
    // Derived from the keyed verifier, not the secret: the id is published, and must not let
    // anyone test guesses of a chosen token against it.
    const tokenId = deriveId(this.directory.verifierOf(seed.token), 'configured-token');
    const existing = this.directory.get(tokenId);
    if (existing?.revokedAt) {
      this.logger.warn(`the configured token for ${seed.subject} was revoked; it stays revoked`);
      return;
    }
    await this.issuer.issue(
      { subject: seed.subject, kind: seed.kind ?? 'user', roles: seed.roles, models: seed.models ?? [], secret: seed.token, tokenId },
      this.metadata(deriveId(tokenId, 'issue')),
    );
    this.logger.log(`issued the configured token for ${seed.subject} (${seed.roles.join(', ')})`);
  }

  private async seeds(): Promise<SeedToken[]> {
    const file = this.config.seedTokensFile;
    if (!file) return [];
    const parsed = JSON.parse(await readFile(file, 'utf8')) as unknown;
    const valid =
      Array.isArray(parsed) &&
      parsed.every(
        (s: Partial<SeedToken>) =>
          typeof s.subject === 'string' &&
          typeof s.token === 'string' &&
          s.token.length >= MIN_SECRET_LENGTH &&
          Array.isArray(s.roles) &&
          s.roles.every((r) => (ROLES as readonly string[]).includes(r)),
      );
    if (!valid) {
      throw new ConfigError(`${file}: expected [{"subject", "roles": [${ROLES.join('|')}], "token" (${MIN_SECRET_LENGTH}+ chars), "models"?, "kind"?}]`);
    }
    return parsed as SeedToken[];
  }

  private metadata(commandId: string): CommandMetadata {
    return { commandId, actor: REGISTRY, now: this.clock.now().toISOString(), correlationId: commandId, causationId: null };
  }
}
