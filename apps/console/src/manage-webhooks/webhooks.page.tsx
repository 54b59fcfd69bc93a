import { useState } from 'preact/hooks';
import type { Webhook, WebhookDelivery } from '@mrw/client/browser';
import { useSession } from '../session/session';
import { formatActor, formatTime } from '../shared/format';
import { DataTable, ErrorNotice, Loading, Section, StatusBadge } from '../shared/ui';
import { useLoad } from '../shared/use-load';

const Deliveries = ({ webhook }: { webhook: Webhook }) => {
  const { api, can } = useSession();
  const loaded = useLoad(() => api.listWebhookDeliveries(webhook.id, { limit: 100 }), [api, webhook.id]);
  const [error, setError] = useState<unknown>(undefined);
  const [said, setSaid] = useState('');
  const redeliver = async (delivery: string) => {
    setError(undefined);
    try {
      await api.redeliverWebhook(webhook.id, delivery);
      setSaid(`Delivery ${delivery} queued again, with its original webhook-id.`);
      loaded.reload();
    } catch (failure) {
      setError(failure);
    }
  };
  if (!loaded.data) return loaded.error ? <ErrorNotice error={loaded.error} /> : <Loading what="deliveries" />;
  return (
    <>
      <p role="status" class="muted">
        {said}
      </p>
      <ErrorNotice error={error ?? loaded.error} />
      <DataTable
        label={`Deliveries of ${webhook.url}`}
        columns={[
          { header: 'Event', cell: (d: WebhookDelivery) => d.eventType },
          { header: 'Status', cell: (d: WebhookDelivery) => <StatusBadge status={d.status} /> },
          { header: 'Attempts', numeric: true, cell: (d: WebhookDelivery) => d.attempts },
          { header: 'Last answer', cell: (d: WebhookDelivery) => d.lastStatus ?? d.lastError ?? '—' },
          { header: 'Created', cell: (d: WebhookDelivery) => formatTime(d.createdAt) },
          {
            header: <span class="sr-only">Actions</span>,
            cell: (d: WebhookDelivery) =>
              can('contributor') && (
                <button type="button" class="secondary" onClick={() => redeliver(d.id)}>
                  Redeliver
                </button>
              ),
          },
        ]}
        rows={loaded.data.items}
        rowKey={(d) => d.id}
      />
      {loaded.data.items.length === 0 && <p class="muted">Nothing delivered yet.</p>}
    </>
  );
};

/** Webhook subscriptions, their health and delivery history, and redelivery. URLs show as origins: they are write-only. */
export const WebhooksPage = () => {
  const { api } = useSession();
  const loaded = useLoad(() => api.listWebhooks(), [api]);
  const [open, setOpen] = useState<string | null>(null);
  if (!loaded.data) return loaded.error ? <ErrorNotice error={loaded.error} /> : <Loading what="webhooks" />;
  return (
    <>
      <header class="page-head">
        <h1>Webhooks</h1>
      </header>
      <ErrorNotice error={loaded.error} />
      {loaded.data.items.length === 0 && <p class="muted">No subscriptions: create one with mrw webhooks create or POST /api/v1/webhooks.</p>}
      {loaded.data.items.map((w) => (
        <Section
          key={w.id}
          title={`${w.url}${w.model ? ` · ${w.model}` : ''}`}
          actions={
            <button type="button" class="secondary" aria-expanded={open === w.id} onClick={() => setOpen(open === w.id ? null : w.id)}>
              {open === w.id ? 'Hide deliveries' : 'Show deliveries'}
            </button>
          }
        >
          <p>
            <StatusBadge status={w.status} /> <StatusBadge status={w.health} /> {w.description}
          </p>
          <p class="muted">
            Events: {w.events.join(', ')} · owner {formatActor(w.owner)} · fingerprint <code>{w.urlFingerprint}</code>
            {w.failingSince ? ` · failing since ${formatTime(w.failingSince)}` : ''}
          </p>
          {open === w.id && <Deliveries webhook={w} />}
        </Section>
      ))}
    </>
  );
};
