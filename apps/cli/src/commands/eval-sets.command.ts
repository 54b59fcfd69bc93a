import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { UsageError } from '../exit-codes';
import { cell, table } from '../output/render';
import { uploadProgress } from '../output/upload-progress';

/** `mrw eval-sets upload|show`: the standard evaluation sets promotions are judged on. */
export const evalSetsCommand = (program: Command, cli: CliContext): void => {
  const sets = program.command('eval-sets').description('standard evaluation sets: upload a version, show the versions');

  sets
    .command('upload <name> <file>')
    .description('upload a version of a set (admin): CSV with a header row, or Parquet, and its manifest')
    .requiredOption('--manifest <json-file>', 'the manifest: {"task": "binary", "label": "label", …}')
    .option('--progress', 'show the upload progress bar even when stderr is not a terminal')
    .option('--no-progress', 'never show the upload progress bar')
    .action(async (name: string, file: string, options: { manifest: string; progress?: boolean }, command: Command) => {
      if (!(await stat(file).catch(() => undefined))?.isFile()) throw new UsageError(`${file} is not a file`);
      const text = await readFile(options.manifest, 'utf8').catch(() => {
        throw new UsageError(`cannot read the manifest ${options.manifest}`);
      });
      let manifest: unknown;
      try {
        manifest = JSON.parse(text);
      } catch (error) {
        throw new UsageError(`the manifest ${options.manifest} is not JSON: ${(error as Error).message}`);
      }
      const client = await cli.client();
      const progress = uploadProgress(`uploading ${basename(file)}`, { json: cli.json(command), progress: options.progress });
      try {
        const set = await client.uploadEvaluationSet(name, file, manifest, progress.onProgress ? { onProgress: progress.onProgress } : {});
        progress.done();
        cli.emit(command, set, () => `uploaded ${set.name} v${set.version}: ${set.rows} rows, ${set.format}, ${set.digest}`);
      } finally {
        progress.done();
      }
    });

  sets
    .command('show <name>')
    .description("a set's versions")
    .action(async (name: string, _options: unknown, command: Command) => {
      const set = await (await cli.client()).getEvaluationSet(name);
      cli.emit(command, set, () =>
        table(
          ['VERSION', 'DIGEST', 'ROWS', 'FORMAT', 'UPLOADED'],
          set.versions.map((v) => [v['version'], v['digest'], v['rows'], v['format'], cell(v['uploadedAt'] ?? v['createdAt'])]),
        ),
      );
    });
};
