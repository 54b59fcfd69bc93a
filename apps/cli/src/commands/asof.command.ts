import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { timestamp } from '../parse-arguments';
import { fields } from '../output/render';

/** `mrw asof <model> <timestamp>`: what served then, folded from the log up to that moment. */
export const asofCommand = (program: Command, cli: CliContext): void => {
  program
    .command('asof')
    .argument('<model>')
    .argument('<timestamp>', 'ISO 8601, e.g. 2026-11-27T12:00:00Z', timestamp)
    .description('what served at that time (ISO 8601, e.g. 2026-11-27T12:00:00Z): the model folded from its events up to then')
    .action(async (name: string, asOf: string, _options: unknown, command: Command) => {
      const client = await cli.client();
      const model = await client.getModel(name, { asOf });
      const served = model.servingVersion;
      const period = served === null ? undefined : [...model.servingHistory].reverse().find((p) => p.version === served);
      const version = served === null ? undefined : await client.getVersion(name, served, { asOf });
      cli.emit(
        command,
        {
          model: name,
          asOf,
          servingVersion: served,
          since: period?.since ?? null,
          deploymentId: period?.deploymentId ?? null,
          version: version ? { version: version.version, stage: version.stage, digest: version.digest, source: version.source } : null,
        },
        () =>
          served === null
            ? `${asOf}: no version of ${name} was serving`
            : [
                `${asOf}: ${name} v${served} was serving`,
                fields([
                  ['since', period?.since],
                  ['deployment', period?.deploymentId],
                  ['stage then', version?.stage],
                  ['digest', version?.digest],
                ]),
              ].join('\n'),
      );
    });
};
