import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { CliContext } from './cli-context';
import { approvalsCommand } from './commands/approvals.command';
import { asofCommand } from './commands/asof.command';
import { auditCommand } from './commands/audit.command';
import { dlqCommand } from './commands/dlq.command';
import { evalSetsCommand } from './commands/eval-sets.command';
import { loginCommand } from './commands/login.command';
import { modelsCommand } from './commands/models.command';
import { promoteCommand } from './commands/promote.command';
import { rollbackCommand } from './commands/rollback.command';
import { versionsCommand } from './commands/versions.command';
import { webhooksCommand } from './commands/webhooks.command';
import { EXIT, EXIT_CODES_HELP, type ExitCode } from './exit-codes';
import { describeFailure } from './output/failure';

const packageVersion = (): string => {
  try {
    // dist/apps/cli/main.js → the package root, where an installed package keeps its package.json.
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
};

const CONFIGURATION_HELP = `Configuration:
  MRW_URL     the registry's base URL (default http://localhost:8080)
  MRW_TOKEN   a token issued by the registry
  MRW_CONFIG  the profile file mrw login writes (default ~/.config/mrw/config.json, mode 0600);
              MRW_URL and MRW_TOKEN win over it`;

const EXAMPLES_HELP = `Examples:
  mrw versions register churn model.onnx --metric val_auc=0.91 --run-id "$CI_JOB_ID" --idempotency-key "$CI_JOB_ID"
  mrw promote churn 7 --to Staging --wait --timeout 15m
  mrw asof churn 2026-11-01T00:00:00Z`;

/** The `mrw` program: every command, `--json` everywhere, exit codes in the help. */
export const buildProgram = (cli: CliContext): Command => {
  const program = new Command('mrw')
    .description('The model registry from the command line: register, promote and follow model versions.')
    .version(cli.version, '-V, --version')
    .option('--json', 'print JSON for scripts instead of tables (errors: one JSON object on stderr)')
    .showHelpAfterError('(mrw <command> --help shows how to use it)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) })
    .addHelpText('after', `\n${EXIT_CODES_HELP}\n\n${CONFIGURATION_HELP}\n\n${EXAMPLES_HELP}`);

  loginCommand(program, cli);
  modelsCommand(program, cli);
  versionsCommand(program, cli);
  promoteCommand(program, cli);
  approvalsCommand(program, cli);
  rollbackCommand(program, cli);
  auditCommand(program, cli);
  asofCommand(program, cli);
  evalSetsCommand(program, cli);
  webhooksCommand(program, cli);
  dlqCommand(program, cli);
  return program;
};

/** Runs `mrw` with these arguments; resolves to the exit code (the caller exits with it). */
export const runCli = async (argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<ExitCode> => {
  const cli = new CliContext(env, packageVersion());
  const program = buildProgram(cli);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version "fail" with exit code 0; every other parse failure is a usage error (commander already said why).
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const failure = describeFailure(error, cli.settings);
    if (failure.message) {
      if (argv.includes('--json')) {
        process.stderr.write(`${JSON.stringify({ error: { message: failure.message, ...(failure.hint ? { hint: failure.hint } : {}), ...(failure.problem ? { problem: failure.problem } : {}) } })}\n`);
      } else {
        process.stderr.write(`mrw: ${failure.message}\n`);
        if (failure.hint) process.stderr.write(`hint: ${failure.hint}\n`);
      }
    }
    return failure.code;
  }
};
