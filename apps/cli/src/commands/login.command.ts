import type { Command } from 'commander';
import { MrwApiError, MrwClient } from '@mrw/client';
import type { CliContext } from '../cli-context';
import { profilePath, writeProfile } from '../configuration/profile';
import { UsageError } from '../exit-codes';

const readStdin = async (): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
};

/** `mrw login --url … --token …`: keeps them in the profile file (0600), after checking the registry takes them. */
export const loginCommand = (program: Command, cli: CliContext): void => {
  program
    .command('login')
    .description(`keep the registry's URL and your token in the profile file ($MRW_CONFIG or ~/.config/mrw/config.json, mode 0600); MRW_URL and MRW_TOKEN still win`)
    .requiredOption('--url <url>', "the registry's base URL, e.g. https://mrw.example.com")
    .option('--token <token>', 'the token (mrw_…); prefer --token-stdin, which keeps it out of the shell history')
    .option('--token-stdin', 'read the token from standard input')
    .option('--no-verify', 'save without checking that the registry accepts the token')
    .action(async (options: { url: string; token?: string; tokenStdin?: boolean; verify: boolean }, command: Command) => {
      const token = options.tokenStdin ? await readStdin() : options.token;
      if (!token) throw new UsageError('give the token with --token or --token-stdin');
      if (!/^https?:\/\//i.test(options.url)) throw new UsageError(`--url ${options.url} is not an http(s) URL`);
      if (options.verify) {
        // The cheapest call every role may make; a 401 here means the token (or the URL) is wrong.
        await new MrwClient({ url: options.url, token, userAgent: `mrw-cli/${cli.version}` }).listModels({ limit: 1 }).catch((error: unknown) => {
          if (error instanceof MrwApiError && error.status === 401) throw new Error(`the registry at ${options.url} does not accept this token (401): check it, or ask an admin for a new one; nothing was saved`);
          throw error;
        });
      }
      const path = profilePath(cli.env);
      await writeProfile(path, { url: options.url.replace(/\/+$/, ''), token });
      cli.emit(command, { url: options.url, profile: path, verified: options.verify }, () => `logged in to ${options.url}; saved to ${path} (mode 0600; the token is not shown)`);
    });
};
