import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { versionNumber } from '../parse-arguments';

/** `mrw rollback <model> --reason …`: serve the previous good version again, through the pipeline. */
export const rollbackCommand = (program: Command, cli: CliContext): void => {
  program
    .command('rollback <model>')
    .description('serve again the version that served before the current one (or --to), through the rollback approval and the deployment pipeline')
    .requiredOption('--reason <text>', 'why: reviewers and the audit trail see it')
    .option('--to <version>', 'the version to serve again', versionNumber)
    .option('--emergency', 'deploy at once and review after the fact (deployer role, where the policy allows)')
    .option('--idempotency-key <key>', 'makes a retry safe')
    .action(async (model: string, options: { reason: string; to?: number; emergency?: boolean; idempotencyKey?: string }, command: Command) => {
      const answer = await (await cli.client()).requestRollback(
        model,
        { reason: options.reason, ...(options.to ? { toVersion: options.to } : {}), ...(options.emergency ? { emergency: true } : {}) },
        options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {},
      );
      const r = answer.rollback;
      cli.emit(command, answer, () => {
        const from = r.fromVersion ? `v${r.fromVersion}` : 'nothing';
        const next = r.approvalId ? ` (approval ${r.approvalId}: mrw approvals approve ${r.approvalId})` : r.deploymentId ? ` (deployment ${r.deploymentId})` : '';
        return `rollback of ${answer.model}: ${from} → v${r.toVersion}${r.emergency ? ', emergency' : ''}: ${r.status}${next}`;
      });
    });
};
