import { Option, type Command } from 'commander';
import type { CliContext } from '../cli-context';
import { count } from '../parse-arguments';
import { table } from '../output/render';

/** `mrw dlq list|redrive`: what a consumer could not handle, and a way back once the cause is fixed (admin). */
export const dlqCommand = (program: Command, cli: CliContext): void => {
  const dlq = program.command('dlq').description('dead letters of every consumer group (admin): list, redrive');

  dlq
    .command('list')
    .description('dead letters (default: open ones)')
    .option('--group <group>', 'one consumer group, e.g. mrw-evaluator')
    .addOption(new Option('--status <status>', 'open, redriven or all').choices(['open', 'redriven', 'all']).default('open'))
    .option('--limit <n>', 'at most this many', count, 100)
    .action(async (options: { group?: string; status: 'open' | 'redriven' | 'all'; limit: number }, command: Command) => {
      const page = await (await cli.client()).listDeadLetters({ ...(options.group ? { group: options.group } : {}), status: options.status, limit: options.limit });
      cli.emit(command, page, () =>
        table(
          ['ID', 'GROUP', 'TYPE', 'ATTEMPTS', 'REASON', 'DEAD-LETTERED', 'REDRIVEN'],
          page.items.map((l) => [l.id, l.group, l.type, l.attempts, l.reason, l.deadLetteredAt, l.redrivenAt]),
        ),
      );
    });

  dlq
    .command('redrive <id>')
    .description('send it again (if it fails again it becomes a new dead letter)')
    .option('--idempotency-key <key>', 'makes a retry safe')
    .action(async (id: string, options: { idempotencyKey?: string }, command: Command) => {
      const letter = await (await cli.client()).redriveDeadLetter(id, options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {});
      cli.emit(command, letter, () => `redriven ${letter.id} (${letter.group}, ${letter.type})`);
    });
};
