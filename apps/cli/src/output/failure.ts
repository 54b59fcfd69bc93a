import { CommanderError } from 'commander';
import { MrwApiError, MrwConnectionError, MrwDigestMismatchError } from '@mrw/client';
import type { ResolvedSettings } from '../configuration/profile';
import { CliExit, EXIT, UsageError, type ExitCode } from '../exit-codes';

export interface Failure {
  readonly code: ExitCode;
  /** What went wrong, in one line. */
  readonly message: string;
  /** What to do next, when we can tell. */
  readonly hint?: string;
  readonly problem?: MrwApiError['problem'];
}

const urlHint = (settings: ResolvedSettings | undefined): string =>
  settings?.urlFrom === 'MRW_URL' ? '(MRW_URL)' : settings?.urlFrom === 'profile' ? `(from ${settings.profilePath})` : '(the default; set MRW_URL or run mrw login --url …)';

/** Turns whatever ended a command into an exit code, a message and a hint that says what to do next. */
export const describeFailure = (error: unknown, settings: ResolvedSettings | undefined): Failure => {
  if (error instanceof CliExit) return { code: error.code, message: '' };
  if (error instanceof UsageError) return { code: EXIT.usage, message: error.message, hint: 'see mrw <command> --help' };
  if (error instanceof CommanderError) return { code: EXIT.usage, message: error.message };
  if (error instanceof MrwConnectionError) {
    return {
      code: EXIT.error,
      message: `cannot reach the registry at ${error.url}${error.code ? ` (${error.code})` : ''}`,
      hint: `is the registry running at ${error.url}? ${urlHint(settings)}`,
    };
  }
  if (error instanceof MrwDigestMismatchError) {
    return { code: EXIT.error, message: error.message, hint: 'the file changed or was corrupted in transit: upload it again' };
  }
  if (error instanceof MrwApiError) {
    const fieldErrors = error.errors.map((e) => `${e.field}: ${e.message}`);
    const message = `${error.detail || error.code} (${error.status} ${error.code})${fieldErrors.length > 0 ? `\n  ${fieldErrors.join('\n  ')}` : ''}`;
    return { code: EXIT.error, message, problem: error.problem, ...(hintFor(error, settings) ? { hint: hintFor(error, settings) as string } : {}) };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: EXIT.error, message };
};

const hintFor = (error: MrwApiError, settings: ResolvedSettings | undefined): string | undefined => {
  if (error.status === 401) {
    return settings?.tokenFrom === 'none'
      ? 'no token is configured: check MRW_TOKEN or run mrw login --url <url> --token <token>'
      : `check MRW_TOKEN or run mrw login (the token ${settings?.tokenFrom === 'profile' ? `in ${settings.profilePath}` : 'in MRW_TOKEN'} was not accepted)`;
  }
  if (error.status === 403) return 'this token lacks the role or the model scope for that: ask an admin for one that has it';
  if (error.code === 'IDEMPOTENCY_KEY_REUSED') return 'that --idempotency-key was used for another request: use a new one';
  if (error.status === 404 && error.code === 'HTTP_404') return `is ${settings?.url ?? 'MRW_URL'} the registry's base URL?`;
  if (error.status >= 500) return 'the registry failed: try again, and look at its log with the correlation id';
  return undefined;
};
