import { Option, type Command } from 'commander';
import { STAGES, type GateCheck, type Stage } from '@mrw/contracts';
import { requestOutcome, waitForRequest, type ModelVersion, type TransitionRequest, type WaitResult } from '@mrw/client';
import type { CliContext } from '../cli-context';
import { CliExit, EXIT, type ExitCode } from '../exit-codes';
import { durationMs, versionNumber } from '../parse-arguments';
import { cell, keyMetrics, table } from '../output/render';

interface PromoteOptions {
  to: Stage;
  wait?: boolean;
  timeout: number;
  comment?: string;
  idempotencyKey?: string;
}

const EXIT_OF: Readonly<Record<WaitResult['kind'] | 'in-progress', ExitCode>> = {
  succeeded: EXIT.ok,
  'in-progress': EXIT.ok,
  refused: EXIT.refused,
  failed: EXIT.failed,
  'timed-out': EXIT.timeout,
};

/** `mrw promote <model> <version> --to <stage> [--wait]`: what a CI job runs, and branches on. */
export const promoteCommand = (program: Command, cli: CliContext): void => {
  program
    .command('promote')
    .argument('<model>')
    .argument('<version>', 'the version number', versionNumber)
    .description('request a stage change (Staging: evaluation; Production: gates, approval, deployment); with --wait, follow it to the end')
    .addOption(new Option('--to <stage>', 'the stage wanted').choices(STAGES).makeOptionMandatory())
    .option('--wait', 'follow the request until it ends: exit 0 done, 3 refused, 4 failed, 5 timeout')
    .addOption(new Option('--timeout <duration>', 'with --wait: give up after this long (90s, 10m, 1h30m, PT10M)').argParser(durationMs).default(durationMs('10m'), '10m'))
    .option('--comment <text>', 'why: reviewers see it')
    .option('--idempotency-key <key>', 'makes a retry safe: the same key requests once')
    .action(async (model: string, version: number, options: PromoteOptions, command: Command) => {
      const json = cli.json(command);
      const say = (line: string): void => {
        if (!json) cli.out(line);
      };
      const client = await cli.client();
      const answer = await client.requestTransition(
        model,
        version,
        { toStage: options.to, ...(options.comment ? { comment: options.comment } : {}) },
        options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {},
      );
      const request = answer.request;
      if (!request) throw new Error(`the registry answered without the request: see mrw versions show ${model} ${version}`);
      say(`${model} v${version} → ${options.to}: request ${request.id}`);
      // The gates are checked when the request is made: past them it awaits approval or deploys.
      if (request.toStage === 'Production' && ['awaiting-approval', 'deploying', 'completed'].includes(request.status)) {
        say(`gates: passed${request.checks?.length ? ` (${request.checks.length} checks)` : ''}`);
      }

      let result: PromoteResult;
      if (options.wait) {
        let last = '';
        result = await waitForRequest(client, model, version, request.id, {
          timeoutMs: options.timeout,
          onUpdate: (state, current) => {
            const line = progressLine(state, current);
            if (line && line !== last) say(line);
            last = line ?? last;
          },
        });
      } else {
        const ended = !['evaluating', 'awaiting-approval', 'deploying'].includes(request.status);
        const outcome = ended ? requestOutcome(await client.getVersion(model, version), request.id) : undefined;
        result = outcome ?? { kind: 'in-progress', request, stage: answer.stage };
        if (!outcome) say(`${request.status}: it goes on in the registry; follow it with --wait, or mrw versions show ${model} ${version}`);
      }

      if (json) {
        cli.out(JSON.stringify(jsonResult(model, version, options.to, result), null, 2));
      } else {
        for (const line of endLines(model, version, options.to, options.timeout, result)) cli.out(line);
      }
      const code = EXIT_OF[result.kind];
      if (code !== EXIT.ok) throw new CliExit(code);
    });
};

/** How a promotion ended, or that it goes on (without --wait). */
type PromoteResult = WaitResult | { readonly kind: 'in-progress'; readonly request: TransitionRequest; readonly stage: Stage };

/** One line per change worth telling while a request is in flight (the same line is not repeated). */
export const progressLine = (version: ModelVersion, request: TransitionRequest): string | undefined => {
  switch (request.status) {
    case 'evaluating': {
      const evaluation = version.evaluations.find((e) => e.id === request.evaluationId);
      const champion = evaluation?.championVersion ? ` against champion v${evaluation.championVersion}` : '';
      return `evaluating: on ${evaluation?.set.name ?? 'the standard set'}${champion} (evaluation ${request.evaluationId ?? '?'})`;
    }
    case 'awaiting-approval': {
      const approval = version.approvals.find((a) => a.id === request.approvalId);
      const rule = approval?.['rule'] as { required?: number } | undefined;
      const count = approval ? `${approval.approvals.length} of ${rule?.required ?? '?'} approvals, ` : '';
      return `awaiting-approval: ${count}expires ${approval?.expiresAt ?? '?'}; a reviewer runs: mrw approvals approve ${request.approvalId ?? '<id>'}`;
    }
    case 'deploying': {
      const deployment = version.deployments.find((d) => d.id === request.deploymentId);
      const where = [deployment?.target, deployment?.environment].filter(Boolean).join(', ');
      return `deploying: deployment ${request.deploymentId ?? '?'} ${deployment?.status ?? 'requested'}${where ? ` (${where})` : ''}`;
    }
    default:
      return undefined;
  }
};

const checksTable = (checks: readonly GateCheck[]): string =>
  table(
    ['METRIC', 'RULE', 'VALUE', 'EXPECTED', 'DETAIL'],
    checks.map((c) => [c.metric, c.rule, c.value, c.expected, c.detail]),
  );

const endLines = (
  model: string,
  version: number,
  to: Stage,
  timeoutMs: number,
  result: PromoteResult,
): string[] => {
  switch (result.kind) {
    case 'in-progress':
      return [];
    case 'succeeded': {
      const evaluation = result.version.evaluations.find((e) => e.id === result.request.evaluationId);
      const metrics = evaluation
        ? ` (evaluation ${evaluation.verdict?.passed === false ? 'failed' : 'passed'}: ${cell(keyMetrics(evaluation.metrics))})`
        : '';
      const serving = result.version.serving ? ' and serving' : '';
      return [`completed: ${model} v${version} is in ${result.version.stage}${serving}${metrics}`];
    }
    case 'refused': {
      const why =
        result.request.status === 'rejected'
          ? 'rejected'
          : result.request.status === 'expired'
            ? 'the approval expired'
            : result.request.status === 'completed'
              ? `in ${to}, but its evaluation failed the thresholds: a request for Production would be refused`
              : 'the gates failed';
      return [`refused: ${why}`, ...(result.checks.length > 0 ? [checksTable(result.checks)] : result.reasons.map((r) => `  ${r}`))];
    }
    case 'failed':
      return [`failed: ${result.reason}`];
    case 'timed-out':
      return [
        `timed out after ${Math.round(timeoutMs / 1000)}s: the request is still ${result.request.status}; it goes on in the registry (mrw versions show ${model} ${version})`,
      ];
  }
};

const jsonResult = (model: string, version: number, to: Stage, result: PromoteResult) => ({
  model,
  version,
  toStage: to,
  outcome: result.kind,
  exitCode: EXIT_OF[result.kind],
  stage: 'stage' in result ? result.stage : result.version.stage,
  request: result.request,
  ...('reasons' in result ? { reasons: result.reasons, checks: result.checks } : {}),
  ...('reason' in result ? { reason: result.reason } : {}),
});
