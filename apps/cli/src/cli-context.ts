import type { Command } from 'commander';
import { MrwClient } from '@mrw/client';
import { resolveSettings, type ResolvedSettings } from './configuration/profile';

/** What every command gets: the settings, a client built from them, and the output conventions. */
export class CliContext {
  private resolved: ResolvedSettings | undefined;

  constructor(
    readonly env: NodeJS.ProcessEnv,
    readonly version: string,
  ) {}

  /** The settings once they have been read (for error hints), undefined before. */
  get settings(): ResolvedSettings | undefined {
    return this.resolved;
  }

  async loadSettings(): Promise<ResolvedSettings> {
    this.resolved ??= await resolveSettings(this.env);
    return this.resolved;
  }

  async client(): Promise<MrwClient> {
    const settings = await this.loadSettings();
    return new MrwClient({ url: settings.url, ...(settings.token ? { token: settings.token } : {}), userAgent: `mrw-cli/${this.version}` });
  }

  /** `--json` anywhere on the command line. */
  json(command: Command): boolean {
    return (command.optsWithGlobals() as { json?: boolean }).json === true;
  }

  out(text: string): void {
    process.stdout.write(`${text}\n`);
  }

  err(text: string): void {
    process.stderr.write(`${text}\n`);
  }

  /** The answer as JSON for scripts, or as text for people. */
  emit(command: Command, value: unknown, human: () => string): void {
    this.out(this.json(command) ? JSON.stringify(value, null, 2) : human());
  }
}
