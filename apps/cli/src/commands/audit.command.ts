import type { Command } from 'commander';
import type { AuditSearchItem, ChainVerification, MrwClient } from '@mrw/client';
import type { CliContext } from '../cli-context';
import { CliExit, EXIT } from '../exit-codes';
import { count, versionNumber } from '../parse-arguments';
import { actor, shortHash, table } from '../output/render';

/** `mrw audit <model> [<version>] [--verify]`: the trail, and whether its hash chain is intact. */
export const auditCommand = (program: Command, cli: CliContext): void => {
  program
    .command('audit')
    .argument('<model>')
    .argument('[version]', 'one version (default: the whole model)', versionNumber)
    .description("who did what, when: a version's events with their hashes, or every event of the model; --verify checks the hash chains")
    .option('--verify', 'recompute the hash chain (of the version, or of every version): exit 4 when one is broken')
    .option('--limit <n>', 'without a version: at most this many events', count, 200)
    .action(async (model: string, version: number | undefined, options: { verify?: boolean; limit: number }, command: Command) => {
      const client = await cli.client();
      if (options.verify) {
        const verdicts = version !== undefined ? [await client.verifyVersionAudit(model, version)] : await verifyAll(client, model);
        cli.emit(command, version !== undefined ? verdicts[0] : { model, streams: verdicts }, () => verdicts.map(verdictLine).join('\n'));
        if (verdicts.some((v) => !v.valid)) throw new CliExit(EXIT.failed);
        return;
      }
      if (version !== undefined) {
        const trail = await client.versionAudit(model, version);
        cli.emit(command, trail, () =>
          table(
            ['REV', 'AT', 'TYPE', 'ACTOR', 'HASH'],
            trail.events.map((e) => [e.revision, e.occurredAt, e.type, actor(e.actor), shortHash(e.hash)]),
          ),
        );
        return;
      }
      const items: AuditSearchItem[] = [];
      let after: number | undefined;
      do {
        const page = await client.searchAudit({ model, limit: Math.min(1000, options.limit - items.length), ...(after !== undefined ? { after } : {}) });
        items.push(...page.items);
        after = page.next ?? undefined;
      } while (after !== undefined && items.length < options.limit);
      cli.emit(command, { model, items }, () =>
        table(
          ['AT', 'VERSION', 'TYPE', 'ACTOR', 'HASH'],
          items.map((e) => [e.occurredAt, e.version ? `v${e.version}` : 'model', e.type, actor(e.actor), shortHash(e.hash)]),
        ),
      );
    });
};

const verifyAll = async (client: MrwClient, model: string): Promise<ChainVerification[]> => {
  const versions = await client.listVersions(model, { limit: 1000 });
  const verdicts: ChainVerification[] = [];
  for (const v of [...versions.items].sort((a, b) => a.version - b.version)) verdicts.push(await client.verifyVersionAudit(model, v.version));
  return verdicts;
};

const verdictLine = (v: ChainVerification): string =>
  v.valid
    ? `${v.stream}: chain intact, ${v.events} events, head ${shortHash(v.head)}`
    : `${v.stream}: chain BROKEN at revision ${v.brokenAt ?? '?'}: ${v.reason ?? 'hash mismatch'}`;
