import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Option, type Command } from 'commander';
import { STAGES } from '@mrw/contracts';
import type { ModelVersion } from '@mrw/client';
import type { CliContext } from '../cli-context';
import { UsageError } from '../exit-codes';
import { collectMetric, collectPair, isSourceUri, numberMap, stringMap, timestamp, versionNumber } from '../parse-arguments';
import { actor, bytes, cell, fields, keyMetrics, table } from '../output/render';
import { uploadProgress } from '../output/upload-progress';

interface RegisterOptions {
  metric: string[];
  tag: string[];
  runId?: string;
  idempotencyKey?: string;
  description?: string;
  progress?: boolean;
}

/** `mrw versions register|show|list`. */
export const versionsCommand = (program: Command, cli: CliContext): void => {
  const versions = program.command('versions').description('register, show and list model versions');

  versions
    .command('register <model> <file-or-uri>')
    .description('register a version: a local file is uploaded (with a progress bar, its sha256 computed on the way); a URI (artifacts://, https://, file://) is fetched by the registry')
    .option('--metric <key=value>', 'a training metric (repeatable)', collectMetric, [])
    .option('--tag <key=value>', 'a tag (repeatable)', collectPair, [])
    .option('--run-id <id>', 'the training run that produced it')
    .option('--description <text>', 'what changed')
    .option('--idempotency-key <key>', 'makes a retry safe: the same key registers once (e.g. the CI job id)')
    .option('--progress', 'show the upload progress bar even when stderr is not a terminal')
    .option('--no-progress', 'never show the upload progress bar')
    .action(async (model: string, source: string, options: RegisterOptions, command: Command) => {
      const input = {
        metrics: numberMap(options.metric),
        tags: stringMap(options.tag),
        ...(options.runId ? { runId: options.runId } : {}),
        ...(options.description ? { description: options.description } : {}),
      };
      const idempotency = options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {};
      const json = cli.json(command);
      let version: ModelVersion;
      if (isSourceUri(source)) {
        version = await (await cli.client()).registerVersion(model, { ...input, source }, idempotency);
      } else {
        const file = await stat(source).catch(() => undefined);
        if (!file?.isFile()) throw new UsageError(`${source} is not a file (nor a URI such as artifacts://…, https://…, file://…)`);
        const client = await cli.client();
        const progress = uploadProgress(`uploading ${basename(source)}`, { json, progress: options.progress });
        try {
          const registered = await client.registerVersionFromFile(model, source, input, {
            ...idempotency,
            ...(progress.onProgress ? { onProgress: progress.onProgress } : {}),
          });
          version = registered.version;
          progress.done();
          if (!json) cli.out(`uploaded ${basename(source)} (${bytes(registered.artifact.size)}) as ${registered.artifact.uri}`);
        } finally {
          progress.done();
        }
      }
      cli.emit(command, version, () =>
        [`registered ${version.model} v${version.version} (stage ${version.stage})`, fields([['digest', version.digest], ['source', version.source]])].join('\n'),
      );
    });

  versions
    .command('show')
    .argument('<model>')
    .argument('<version>', 'the version number', versionNumber)
    .description("a version's state: stage, evaluations, requests, approvals, deployments")
    .option('--as-of <timestamp>', 'the version as it was then', timestamp)
    .action(async (model: string, number: number, options: { asOf?: string }, command: Command) => {
      const version = await (await cli.client()).getVersion(model, number, options.asOf ? { asOf: options.asOf } : {});
      cli.emit(command, version, () => showVersion(version));
    });

  versions
    .command('list <model>')
    .description("a model's versions")
    .addOption(new Option('--stage <stage>', 'only versions in this stage').choices(STAGES))
    .action(async (model: string, options: { stage?: (typeof STAGES)[number] }, command: Command) => {
      const page = await (await cli.client()).listVersions(model, { ...(options.stage ? { stage: options.stage } : {}), limit: 1000 });
      cli.emit(command, page, () =>
        table(
          ['VERSION', 'STAGE', 'SERVING', 'EVALUATION', 'DIGEST', 'REGISTERED'],
          page.items.map((v) => [`v${v.version}`, v.stage, v.serving ? 'yes' : '', v.latestEvaluation?.status ?? '', v.digest, v.registeredAt]),
        ),
      );
    });
};

const showVersion = (v: ModelVersion): string => {
  const sections = [
    fields([
      ['version', `${v.model} v${v.version}`],
      ['stage', `${v.stage} since ${v.stageSince}`],
      ['serving', v.serving ? 'yes' : 'no'],
      ['digest', v.digest],
      ['source', v.source],
      ['run id', v.runId],
      ['metrics', v.metrics],
      ['tags', v.tags],
      ['aliases', v.aliases],
      ['registered', `${v.registeredAt} by ${actor(v.registeredBy)}`],
      ...(v.asOf ? ([['as of', v.asOf]] as const) : []),
    ]),
  ];
  if (v.evaluations.length > 0) {
    sections.push(
      `Evaluations\n${table(
        ['ID', 'STATUS', 'SET', 'CHAMPION', 'VERDICT', 'METRICS'],
        v.evaluations.map((e) => [
          e.id,
          e.status === 'failed' ? `failed: ${e.reason ?? ''}` : e.status,
          e.set.name,
          e.championVersion ? `v${e.championVersion}` : '',
          e.verdict ? (e.verdict.passed ? 'passed' : 'failed') : '',
          cell(keyMetrics(e.metrics)),
        ]),
      )}`,
    );
  }
  if (v.requests.length > 0) {
    sections.push(
      `Requests\n${table(
        ['ID', 'KIND', 'TO', 'STATUS', 'BY', 'AT'],
        v.requests.map((r) => [r.id, r.kind, r.toStage, r.status, actor(r.requestedBy), r.requestedAt]),
      )}`,
    );
  }
  if (v.deployments.length > 0) {
    sections.push(
      `Deployments\n${table(
        ['ID', 'STATUS', 'TARGET', 'ENDPOINT', 'REASON'],
        v.deployments.map((d) => [d.id, d.status, [d.target, d.environment].filter(Boolean).join('/'), d.endpoint, d.reason]),
      )}`,
    );
  }
  return sections.join('\n\n');
};
