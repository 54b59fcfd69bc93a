import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { collect, count } from '../parse-arguments';
import { table } from '../output/render';

/** `mrw webhooks list|create|delete|deliveries`. */
export const webhooksCommand = (program: Command, cli: CliContext): void => {
  const webhooks = program.command('webhooks').description('subscriptions to registry events over HTTP');

  webhooks
    .command('list')
    .description('the webhooks you may manage')
    .action(async (_options: unknown, command: Command) => {
      const page = await (await cli.client()).listWebhooks();
      cli.emit(command, page, () =>
        table(
          ['ID', 'MODEL', 'EVENTS', 'STATUS', 'HEALTH', 'URL'],
          page.items.map((w) => [w.id, w.model ?? '(all)', w.events.join(', '), w.status, w.health, w.url]),
        ),
      );
    });

  webhooks
    .command('create')
    .description('subscribe a URL to events (a signing secret is generated and shown once unless given)')
    .requiredOption('--url <url>', 'where to POST (write-only: shown as its origin afterwards)')
    .requiredOption('--event <name>', 'an event name, e.g. MODEL_VERSION_TRANSITIONED_TO_PRODUCTION (repeatable)', collect, [])
    .option('--model <name>', "only this model's events (without it: every model, admins only)")
    .option('--description <text>', 'what it is for')
    .option('--secret <secret>', 'the signing secret (24+ characters); default: generated')
    .action(async (options: { url: string; event: string[]; model?: string; description?: string; secret?: string }, command: Command) => {
      const webhook = await (await cli.client()).createWebhook({
        url: options.url,
        events: options.event,
        ...(options.model ? { model: options.model } : {}),
        ...(options.description ? { description: options.description } : {}),
        ...(options.secret ? { secret: options.secret } : {}),
      });
      cli.emit(command, webhook, () =>
        [`created webhook ${webhook.id} → ${webhook.url} (${webhook.events.join(', ')})`, ...(webhook.secret ? [`signing secret (shown once, keep it): ${webhook.secret}`] : [])].join('\n'),
      );
    });

  webhooks
    .command('delete <id>')
    .description('stop delivering to it (its history stays in the log)')
    .action(async (id: string, _options: unknown, command: Command) => {
      await (await cli.client()).deleteWebhook(id);
      cli.emit(command, { id, deleted: true }, () => `deleted webhook ${id}`);
    });

  webhooks
    .command('deliveries <id>')
    .description("a webhook's deliveries, newest first")
    .option('--status <status>', 'only deliveries in this status')
    .option('--limit <n>', 'at most this many', count, 50)
    .action(async (id: string, options: { status?: string; limit: number }, command: Command) => {
      const page = await (await cli.client()).listWebhookDeliveries(id, { ...(options.status ? { status: options.status } : {}), limit: options.limit });
      cli.emit(command, page, () =>
        table(
          ['ID', 'EVENT', 'STATUS', 'ATTEMPTS', 'LAST', 'CREATED'],
          page.items.map((d) => [d.id, d.event, d.status, d.attempts, d.lastStatus ?? d.lastError, d.createdAt]),
        ),
      );
    });
};
