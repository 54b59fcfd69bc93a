import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPROVAL_TIMERS, approvalTimerIds, ApprovalsModule, EXPIRY_GRACE_MS } from '@mrw/approvals';
import { eventually } from '@mrw/messaging/testing';
import type { DurableTimers } from '@mrw/platform';
import { projectionsCaughtUp, SkippingClock, startRegistry, type RegistryHarness } from '@mrw/registry/testing';


/** The default Production approval: one reviewer, expiring after seven days (docs/decisions.md). */
const DEFAULT_EXPIRY_MS = 7 * 86_400_000;

interface AuditEvent {
  readonly type: string;
  readonly actor: { kind: string; id: string };
  readonly data: Record<string, unknown>;
}

/** Embedded mode with the approvals service: an approval nobody decides expires, once, and stops blocking. */
describe('approval expiry', () => {
  let dataDir: string;
  let clock: SkippingClock;
  let suite: RegistryHarness | undefined;

  const start = async (): Promise<RegistryHarness> => {
    suite = await startRegistry({ dataDir, clock, modules: [ApprovalsModule] });
    return suite;
  };
  const timersOf = (harness: RegistryHarness): DurableTimers => harness.app.get<DurableTimers>(APPROVAL_TIMERS, { strict: false });
  const audit = async (harness: RegistryHarness, model: string): Promise<AuditEvent[]> =>
    (await harness.http('GET', `/api/v1/models/${model}/versions/1/audit`)).body.events as AuditEvent[];

  /** A version of a model without an evaluation policy, in Staging, with a Production request awaiting approval. */
  const awaitingApproval = async (harness: RegistryHarness, model: string): Promise<string> => {
    expect((await harness.http('POST', '/api/v1/models', { body: { name: model } })).status).toBe(201);
    expect((await harness.http('POST', `/api/v1/models/${model}/versions`, { body: { source: `https://models.example.com/${model}.onnx` } })).status).toBe(201);
    const staged = await harness.http('POST', `/api/v1/models/${model}/versions/1/transitions`, { body: { toStage: 'Staging' } });
    expect(staged.body.request).toMatchObject({ status: 'completed' });
    const production = await harness.http('POST', `/api/v1/models/${model}/versions/1/transitions`, { body: { toStage: 'Production' } });
    expect(production.status).toBe(202);
    expect(production.body.request).toMatchObject({ status: 'awaiting-approval', approvalId: expect.any(String) });
    const approvalId = production.body.request.approvalId as string;
    // The approvals service learns of the approval from the log, asynchronously.
    await eventually(async () => timersOf(harness).get(approvalTimerIds(approvalId).expiry)?.status === 'pending', {
      what: `the expiry timer of ${approvalId}`,
    });
    return approvalId;
  };

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mrw-approval-expiry-'));
    clock = new SkippingClock();
  });

  afterEach(async () => {
    await suite?.close();
    suite = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('expires an undecided approval once, as the approvals service, and the version moves again', async () => {
    const harness = await start();
    const approvalId = await awaitingApproval(harness, 'forgotten');
    const timer = timersOf(harness).get(approvalTimerIds(approvalId).expiry);
    const requested = (await audit(harness, 'forgotten')).find((e) => e.type === 'ApprovalRequested');
    expect(timer?.dueAt).toBe(new Date(Date.parse(String(requested?.data['expiresAt'])) + EXPIRY_GRACE_MS).toISOString());
    expect(Date.parse(String(requested?.data['expiresAt'])) - clock.now().getTime()).toBeGreaterThan(DEFAULT_EXPIRY_MS - 60_000);

    const blocked = await harness.http('POST', '/api/v1/models/forgotten/versions/1/transitions', { body: { toStage: 'None' } });
    expect([blocked.status, blocked.body.code]).toEqual([409, 'APPROVAL_PENDING']);

    // Not yet: the clock is a minute short of the expiry.
    clock.skip(DEFAULT_EXPIRY_MS - 60_000);
    await timersOf(harness).wake();
    expect((await audit(harness, 'forgotten')).filter((e) => e.type === 'ApprovalExpired')).toEqual([]);

    clock.skip(60_000 + EXPIRY_GRACE_MS);
    await timersOf(harness).wake();
    await timersOf(harness).wake();
    const expired = (await audit(harness, 'forgotten')).filter((e) => e.type === 'ApprovalExpired');
    expect(expired).toEqual([
      expect.objectContaining({ actor: { kind: 'service', id: 'approvals' }, data: expect.objectContaining({ approvalId }) }),
    ]);
    expect(timersOf(harness).get(approvalTimerIds(approvalId).expiry)).toMatchObject({ status: 'fired', attempts: 1 });

    const version = await harness.http('GET', '/api/v1/models/forgotten/versions/1');
    expect(version.body.approvals).toEqual([expect.objectContaining({ id: approvalId, status: 'expired' })]);
    const again = await harness.http('POST', '/api/v1/models/forgotten/versions/1/transitions', { body: { toStage: 'Production' } });
    expect(again.status).toBe(202);
    expect(again.body.request).toMatchObject({ status: 'awaiting-approval' });
    expect(again.body.request.approvalId).not.toBe(approvalId);

    await projectionsCaughtUp(harness);
    expect((await harness.http('GET', '/api/v1/dead-letters')).body.items).toEqual([]);
  });

  it('cancels the expiry when the approval closes first', async () => {
    const harness = await start();
    const approvalId = await awaitingApproval(harness, 'declined');
    const reviewer = await harness.token('rita', ['reviewer']);
    const rejected = await harness.http('POST', `/api/v1/approvals/${approvalId}/reject`, { token: reviewer, body: { comment: 'not now' } });
    expect(rejected.status).toBe(200);
    await eventually(async () => timersOf(harness).get(approvalTimerIds(approvalId).expiry)?.status === 'cancelled', {
      what: 'the expiry timer cancelled',
    });
    clock.skip(DEFAULT_EXPIRY_MS + EXPIRY_GRACE_MS);
    await timersOf(harness).wake();
    expect((await audit(harness, 'declined')).map((e) => e.type)).not.toContain('ApprovalExpired');
    await projectionsCaughtUp(harness);
    expect((await harness.http('GET', '/api/v1/dead-letters')).body.items).toEqual([]);
  });

  it('expires exactly once an approval whose due time passed while the suite was down', async () => {
    const first = await start();
    const approvalId = await awaitingApproval(first, 'dormant');
    await first.close();
    suite = undefined;

    clock.skip(DEFAULT_EXPIRY_MS + EXPIRY_GRACE_MS + 3_600_000);
    const restarted = await start();
    // No wake(): the restarted scheduler fires what fell due while it was down.
    const expired = await eventually(
      async () => {
        const events = (await audit(restarted, 'dormant')).filter((e) => e.type === 'ApprovalExpired');
        return events.length > 0 ? events : undefined;
      },
      { what: 'ApprovalExpired after the restart' },
    );
    expect(expired).toEqual([expect.objectContaining({ actor: { kind: 'service', id: 'approvals' }, data: expect.objectContaining({ approvalId }) })]);
    await eventually(async () => timersOf(restarted).get(approvalTimerIds(approvalId).expiry)?.status === 'fired', { what: 'the timer marked fired' });
    await restarted.close();
    suite = undefined;

    // A second restart neither fires it again nor appends anything.
    const third = await start();
    await timersOf(third).wake();
    expect((await audit(third, 'dormant')).filter((e) => e.type === 'ApprovalExpired')).toHaveLength(1);
    await projectionsCaughtUp(third);
    expect((await third.http('GET', '/api/v1/dead-letters')).body.items).toEqual([]);
  });
});
