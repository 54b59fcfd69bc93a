import { Option, type Command } from 'commander';
import { STAGES } from '@mrw/contracts';
import type { CliContext } from '../cli-context';
import { collectPair, count, stringMap, timestamp } from '../parse-arguments';
import { fields, shortHash, table } from '../output/render';

/** `mrw models list|show|create`. */
export const modelsCommand = (program: Command, cli: CliContext): void => {
  const models = program.command('models').description('list, show and create models');

  models
    .command('list')
    .description('models in the catalog')
    .addOption(new Option('--stage <stage>', 'only models with a version in this stage').choices(STAGES))
    .option('--tag <key[:value]>', 'only models with this tag')
    .option('--search <text>', 'substring of the name or description')
    .option('--limit <n>', 'at most this many', count, 100)
    .action(async (options: { stage?: (typeof STAGES)[number]; tag?: string; search?: string; limit: number }, command: Command) => {
      const page = await (await cli.client()).listModels({
        ...(options.stage ? { stage: options.stage } : {}),
        ...(options.tag ? { tag: options.tag } : {}),
        ...(options.search ? { q: options.search } : {}),
        limit: options.limit,
      });
      cli.emit(command, page, () =>
        table(
          ['NAME', 'LATEST', 'SERVING', 'UPDATED', 'DESCRIPTION'],
          page.items.map((m) => [m.name, m.latestVersion ? `v${m.latestVersion}` : '-', m.servingVersion ? `v${m.servingVersion}` : '-', m.updatedAt, m.description]),
        ),
      );
    });

  models
    .command('show <name>')
    .description('a model, its policy and its versions')
    .option('--as-of <timestamp>', 'the model as it was then', timestamp)
    .action(async (name: string, options: { asOf?: string }, command: Command) => {
      const client = await cli.client();
      const model = await client.getModel(name, options.asOf ? { asOf: options.asOf } : {});
      const versions = await client.listVersions(name, { limit: 1000 });
      cli.emit(command, { model, versions: versions.items }, () =>
        [
          fields([
            ['name', model.name],
            ['description', model.description],
            ['tags', model.tags],
            ['aliases', model.aliases],
            ['latest', model.latestVersion ? `v${model.latestVersion}` : null],
            ['serving', model.servingVersion ? `v${model.servingVersion}` : null],
            ['evaluation', model.policy.evaluation ? `${model.policy.evaluation.set}${thresholds(model.policy.evaluation.thresholds)}` : null],
            ['created', model.createdAt],
            ...(model.asOf ? ([['as of', model.asOf]] as const) : []),
          ]),
          '',
          table(
            ['VERSION', 'STAGE', 'SERVING', 'EVALUATION', 'PENDING APPROVAL', 'DIGEST', 'REGISTERED BY', 'REGISTERED'],
            versions.items.map((v) => [
              `v${v.version}`,
              v.stage,
              v.serving ? 'yes' : '',
              v.latestEvaluation ? `${v.latestEvaluation.status}${v.latestEvaluation.passed === null ? '' : v.latestEvaluation.passed ? ' (passed)' : ' (failed)'}` : '',
              v.pendingApproval ?? '',
              shortHash(v.digest),
              v.registeredBy,
              v.registeredAt,
            ]),
          ),
        ].join('\n'),
      );
    });

  models
    .command('create <name>')
    .description('create a model')
    .option('--description <text>', 'what it predicts')
    .option('--tag <key=value>', 'a tag (repeatable)', collectPair, [])
    .option('--idempotency-key <key>', 'makes a retry safe')
    .action(async (name: string, options: { description?: string; tag: string[]; idempotencyKey?: string }, command: Command) => {
      const model = await (await cli.client()).createModel(
        { name, ...(options.description ? { description: options.description } : {}), tags: stringMap(options.tag) },
        options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {},
      );
      cli.emit(command, model, () => `created model ${model.name}`);
    });
};

const thresholds = (rules: Readonly<Record<string, { threshold?: number }>> | undefined): string => {
  const parts = Object.entries(rules ?? {}).map(([metric, rule]) => (rule.threshold === undefined ? metric : `${metric} threshold ${rule.threshold}`));
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
};
