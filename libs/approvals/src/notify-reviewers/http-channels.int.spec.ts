import type { ServerResponse } from 'node:http';
import { AddressPolicy, OutboundHttp } from '@mrw/outbound';
import { verifyWebhook, type Clock } from '@mrw/platform';
import { failureKind, retry } from '@mrw/resilience';
import { NotificationDeliveryError, type NotificationChannel } from './notification-channel';
import { renderSlack } from './render-slack';
import { renderTeams } from './render-teams';
import { SlackChannel } from './slack.channel';
import { TeamsChannel } from './teams.channel';
import { startHttpReceiver, type Answer, type HttpReceiver } from './testing/local-receivers';
import { linksFor, SAMPLE_DIGEST, sampleNotice } from './testing/sample-notice';
import { WebhookChannel } from './webhook.channel';

// The path of a Slack webhook URL is its credential; it must never show in a message or target.
const SLACK_PATH = '/services/T0001/B0002/slackTokenDoNotLog';
const TEAMS_PATH = '/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=teamsSigDoNotLog';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const NOW = new Date('2026-03-01T09:30:05.000Z');
const clock: Clock = { now: () => NOW };

const receivers: HttpReceiver[] = [];
const receiver = async (answer?: Answer): Promise<HttpReceiver> => {
  const r = await startHttpReceiver(answer);
  receivers.push(r);
  return r;
};
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

/** The guarded client as the platform builds it, allowing loopback as an operator would with MRW_OUTBOUND_ALLOWED_HOSTS=127.0.0.1. */
const http = (allowed = '127.0.0.1', responseMs = 5_000): OutboundHttp =>
  new OutboundHttp({ policy: AddressPolicy.fromSetting(allowed), timeouts: { connectMs: 2_000, responseMs } });

const failure = async (promise: Promise<unknown>): Promise<NotificationDeliveryError> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof NotificationDeliveryError)) throw new Error(`expected a NotificationDeliveryError, got ${String(error)}`);
  return error;
};

const answer =
  (status: number, body = '', headers: Record<string, string> = {}): Answer =>
  (_req, res: ServerResponse) =>
    res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(body);

describe('Slack incoming webhook', () => {
  it('posts the Block Kit message Slack expects: section fields, metrics, and an actions block with two buttons', async () => {
    const slack = await receiver();
    const result = await new SlackChannel({ webhookUrl: `${slack.base}${SLACK_PATH}` }, http()).send(sampleNotice());
    expect(result).toEqual({ channel: 'slack', target: `127.0.0.1:${slack.port}`, response: '200 ok' });

    const [request] = await slack.waitFor(1);
    expect([request?.method, request?.url, request?.headers['content-type']]).toEqual(['POST', SLACK_PATH, 'application/json; charset=utf-8']);
    const body = JSON.parse(request?.body ?? '{}') as { text: string; blocks: Array<Record<string, unknown>> };
    expect(body).toEqual(JSON.parse(JSON.stringify(renderSlack(sampleNotice()))));
    expect(body.text).toBe('Approval needed: churn v7 → Production');
    const fields = body.blocks.find((b) => b['type'] === 'section' && Array.isArray(b['fields']))?.['fields'] as Array<{ type: string; text: string }>;
    expect(fields).toContainEqual({ type: 'mrkdwn', text: `*Evaluation set*\nchurn-holdout @ ${SAMPLE_DIGEST}` });
    expect(request?.body).toContain('0.9120 vs 0.8900: +0.0220, 95% CI [+0.0100, +0.0340]');
    const actions = body.blocks.filter((b) => b['type'] === 'actions');
    expect(actions).toHaveLength(1);
    expect((actions[0]?.['elements'] as Array<Record<string, unknown>>).map((e) => [e['type'], e['action_id'], e['value']])).toEqual([
      ['button', 'approve', 'apr-0001'],
      ['button', 'reject', 'apr-0001'],
    ]);
  });
});

describe('Teams Workflows webhook', () => {
  it('posts a message with one Adaptive Card 1.4 whose actions open the approve and reject links', async () => {
    const teams = await receiver(answer(202));
    const path = TEAMS_PATH;
    const result = await new TeamsChannel({ webhookUrl: `${teams.base}${path}` }, http()).send(sampleNotice(), { subject: 'team', links: linksFor('team') });
    expect(result.response).toBe('202');
    const [request] = await teams.waitFor(1);
    expect(request?.url).toBe(path);
    const body = JSON.parse(request?.body ?? '{}');
    expect(body).toEqual(JSON.parse(JSON.stringify(renderTeams(sampleNotice({ links: linksFor('team') })))));
    expect(body).toMatchObject({
      type: 'message',
      attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', version: '1.4' } }],
    });
    expect(body.attachments[0].content.actions.map((a: { type: string; title: string; url: string }) => [a.type, a.title, a.url])).toEqual([
      ['Action.OpenUrl', 'Approve', linksFor('team').approve],
      ['Action.OpenUrl', 'Reject', linksFor('team').reject],
      ['Action.OpenUrl', 'View', linksFor('team').view],
    ]);
  });
});

describe('generic webhook', () => {
  it('signs the body with Standard Webhooks headers that verify with the same helper', async () => {
    const hook = await receiver(answer(204));
    const result = await new WebhookChannel({ url: `${hook.base}/mrw/approvals`, secret: SECRET }, http(), clock).send(sampleNotice());
    expect(result).toMatchObject({ channel: 'webhook', target: `127.0.0.1:${hook.port}`, response: '204', messageId: 'ntc_apr-0001_requested' });

    const [request] = await hook.waitFor(1);
    if (!request) throw new Error('nothing arrived');
    expect(request.headers['webhook-id']).toBe('ntc_apr-0001_requested');
    expect(request.headers['webhook-timestamp']).toBe(String(NOW.getTime() / 1000));
    expect(verifyWebhook(SECRET, request.headers, request.body, NOW)).toEqual({ ok: true, id: 'ntc_apr-0001_requested', timestamp: NOW });
    expect(verifyWebhook('whsec_b3RoZXI=', request.headers, request.body, NOW)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
    const body = JSON.parse(request.body);
    expect(body).toMatchObject({
      type: 'approval.requested',
      timestamp: '2026-03-01T09:30:00.000Z',
      data: { approvalId: 'apr-0001', model: 'churn', version: 7, evidence: { dataset: { digest: SAMPLE_DIGEST }, championVersion: 6 } },
    });
  });

  it('keeps the webhook-id across retries, so the receiver can deduplicate', async () => {
    let calls = 0;
    const hook = await receiver((_req, res) => {
      calls += 1;
      res.writeHead(calls < 3 ? 503 : 200).end();
    });
    const channel = new WebhookChannel({ url: `${hook.base}/in`, secret: SECRET }, http(), clock);
    await retry(() => channel.send(sampleNotice()), { backoff: { initialMs: 1, maxMs: 5 } });
    const requests = await hook.waitFor(3);
    expect(new Set(requests.map((r) => r.headers['webhook-id']))).toEqual(new Set(['ntc_apr-0001_requested']));
  });
});

describe('delivery failures', () => {
  const kinds: Array<[string, (url: string, client: OutboundHttp) => NotificationChannel]> = [
    ['slack', (url, client) => new SlackChannel({ webhookUrl: `${url}${SLACK_PATH}` }, client)],
    ['teams', (url, client) => new TeamsChannel({ webhookUrl: `${url}${TEAMS_PATH}` }, client)],
    ['webhook', (url, client) => new WebhookChannel({ url: `${url}/in?token=webhookTokenDoNotLog`, secret: SECRET }, client, clock)],
  ];

  const leaksNothing = (error: NotificationDeliveryError): void => {
    const shown = `${error.message} ${error.target} ${JSON.stringify(error)}`;
    for (const secret of ['slackTokenDoNotLog', 'teamsSigDoNotLog', 'webhookTokenDoNotLog', '/services/', '/workflows/']) expect(shown).not.toContain(secret);
  };

  it.each(kinds)('%s: a 503 is transient, with the receiver’s answer and Retry-After', async (_, make) => {
    const down = await receiver(answer(503, 'maintenance', { 'retry-after': '30' }));
    const error = await failure(make(down.base, http()).send(sampleNotice()));
    expect([error.code, error.status, error.retryAfterMs, failureKind(error)]).toEqual(['DELIVERY_UNAVAILABLE', 503, 30_000, 'transient']);
    expect(error.message).toBe(`${error.channel} webhook at 127.0.0.1:${down.port} answered 503: maintenance`);
    leaksNothing(error);
  });

  it.each(kinds)('%s: a 400 is permanent, and retry() does not try again', async (_, make) => {
    const refusing = await receiver(answer(400, 'invalid_payload'));
    const channel = make(refusing.base, http());
    const error = await failure(retry(() => channel.send(sampleNotice()), { backoff: { initialMs: 1 } }));
    expect([error.code, error.status, failureKind(error)]).toEqual(['DELIVERY_REJECTED', 400, 'permanent']);
    expect(refusing.received).toHaveLength(1);
    leaksNothing(error);
  });

  it.each(kinds)('%s: a 429 and a timeout are transient', async (_, make) => {
    const limited = await receiver(answer(429));
    expect(failureKind(await failure(make(limited.base, http()).send(sampleNotice())))).toBe('transient');
    const silent = await receiver(() => undefined);
    const timedOut = await failure(make(silent.base, http('127.0.0.1', 200)).send(sampleNotice()));
    expect([timedOut.code, failureKind(timedOut)]).toEqual(['DELIVERY_UNAVAILABLE', 'transient']);
    expect(timedOut.message).toMatch(/no answer within 200 ms/);
    leaksNothing(timedOut);
  });

  it.each(kinds)('%s: a loopback address the operator did not allow is refused permanently, and nothing is sent', async (_, make) => {
    const local = await receiver();
    const error = await failure(make(local.base, http('')).send(sampleNotice()));
    expect([error.code, failureKind(error)]).toEqual(['DELIVERY_ADDRESS_REFUSED', 'permanent']);
    expect(error.message).toMatch(/127\.0\.0\.1 \(loopback\) is refused; MRW_OUTBOUND_ALLOWED_HOSTS must allow it/);
    expect(local.received).toHaveLength(0);
    leaksNothing(error);
  });

  it.each(kinds)('%s: a receiver that is gone is transient', async (_, make) => {
    const gone = await receiver();
    const base = gone.base;
    await gone.close();
    receivers.splice(receivers.indexOf(gone), 1);
    const error = await failure(make(base, http()).send(sampleNotice()));
    expect([error.code, failureKind(error)]).toEqual(['DELIVERY_UNAVAILABLE', 'transient']);
    leaksNothing(error);
  });
});
