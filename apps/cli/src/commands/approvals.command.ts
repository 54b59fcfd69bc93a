import { Option, type Command } from 'commander';
import type { Approval } from '@mrw/client';
import type { CliContext } from '../cli-context';
import { actor, table } from '../output/render';

const STATUSES = ['pending', 'approved', 'rejected', 'expired', 'void'] as const;

/** `mrw approvals list|approve|reject`: the reviewers' inbox. */
export const approvalsCommand = (program: Command, cli: CliContext): void => {
  const approvals = program.command('approvals').description("the reviewers' inbox: list, approve, reject");

  approvals
    .command('list')
    .description('approval requests (default: pending)')
    .addOption(new Option('--status <status>', 'only requests in this status').choices(STATUSES).default('pending'))
    .option('--model <name>', "only this model's")
    .option('--mine', 'only those I may decide now')
    .action(async (options: { status: (typeof STATUSES)[number]; model?: string; mine?: boolean }, command: Command) => {
      const page = await (await cli.client()).listApprovals({
        status: options.status,
        ...(options.model ? { model: options.model } : {}),
        ...(options.mine ? { reviewer: 'me' as const } : {}),
        limit: 500,
      });
      cli.emit(command, page, () =>
        table(
          ['ID', 'MODEL', 'VERSION', 'FOR', 'STATUS', 'APPROVALS', 'REQUESTED BY', 'EXPIRES'],
          page.items.map((a) => [a.id, a.model, `v${a.version}`, a.purpose === 'rollback' ? 'rollback' : a.targetStage, a.status, `${a.collected}/${a.required}`, actor(a.requestedBy), a.expiresAt]),
        ),
      );
    });

  for (const decision of ['approve', 'reject'] as const) {
    approvals
      .command(`${decision} <id>`)
      .description(decision === 'approve' ? 'approve a request (counts once per person; the requester and the registrant cannot)' : 'reject a request: any rejection closes it')
      .option('--comment <text>', 'why: kept in the audit trail')
      .option('--idempotency-key <key>', 'makes a retry safe')
      .action(async (id: string, options: { comment?: string; idempotencyKey?: string }, command: Command) => {
        const client = await cli.client();
        const idempotency = options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {};
        const approval: Approval =
          decision === 'approve' ? await client.approve(id, options.comment, idempotency) : await client.reject(id, options.comment, idempotency);
        cli.emit(command, approval, () => `${decision === 'approve' ? 'approved' : 'rejected'}: ${approval.model} v${approval.version} → ${approval.targetStage}, now ${approval.status} (${approval.collected} of ${approval.required} approvals)`);
      });
  }
};
