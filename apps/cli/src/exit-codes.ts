/** What `mrw` exits with: a CI job branches on these, so they are part of the CLI's contract. */
export const EXIT = {
  ok: 0,
  /** The registry answered with an error, could not be reached, or something else went wrong. */
  error: 1,
  /** The command line was wrong: unknown command or option, a bad value, a missing file. */
  usage: 2,
  /** Refused: the gates failed, a reviewer rejected, the approval expired (or a Staging evaluation's verdict failed). */
  refused: 3,
  /** Failed: the evaluation or the deployment failed; or `audit --verify` found a broken chain. */
  failed: 4,
  /** `--wait` gave up at `--timeout`; the request goes on in the registry. */
  timeout: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit codes as `mrw --help` and the README show them. */
export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  error: the registry refused the call or could not be reached (the message says what to do)
  2  usage: unknown command or option, bad value, missing file
  3  refused: gates failed, approval rejected or expired (the failing checks are printed)
  4  failed: evaluation or deployment failed (the reason is printed); audit --verify: chain broken
  5  timeout: --wait gave up at --timeout; the request goes on`;

/** An outcome that ends the command with a given exit code; its message is already printed. */
export class CliExit extends Error {
  override readonly name = 'CliExit';
  constructor(readonly code: ExitCode) {
    super(`exit ${code}`);
  }
}

/** A command line that cannot work (a file that is not there, a manifest that is not JSON): exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
