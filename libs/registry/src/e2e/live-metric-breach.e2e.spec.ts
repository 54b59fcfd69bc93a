import { randomUUID } from 'node:crypto';
import type { CommandMessage } from '@mrw/contracts';
import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import { deadLetterStream } from '@mrw/messaging';
import { RegistryCommands } from '@mrw/platform';
import { startRegistry, type RegistryHarness } from '../testing/registry-harness';

type AuditEvent = { type: string; actor: { kind: string; id: string }; data: Record<string, unknown> };

/**
 * What the archival service tells the registry (issue 12), sent as it sends it: an archival with
 * its rule's parameters and evidence, and a sustained live-metric breach on the serving version,
 * recorded once, refused on a version that does not serve, and followed by a rollback request
 * when the policy asks for one.
 */
describe('archival and live-metric breaches from the archival service', () => {
  let registry: RegistryHarness;
  const LIVE_METRIC = { metric: 'accuracy', below: 0.85, for: 'PT1H' };
  const noApprovalToProduction = { Production: { required: 0, reviewers: ['role:reviewer'], expiresIn: 'P1D' } };

  beforeAll(async () => {
    registry = await startRegistry();
    for (const name of ['svc', 'solo']) {
      await registry.http('POST', '/api/v1/models', { body: { name } });
      await setPolicy(name, false);
    }
    await serve('svc', 1);
    await serve('svc', 2);
    await serve('solo', 1);
  });

  afterAll(async () => {
    await registry.close();
  });

  const setPolicy = async (model: string, rollback: boolean) => {
    const set = await registry.http('PUT', `/api/v1/models/${model}/policy`, {
      body: { approval: noApprovalToProduction, archival: { liveMetric: { ...LIVE_METRIC, rollback } } },
    });
    expect(set.status).toBe(200);
  };

  const send = (service: 'archival' | 'deployer', command: Omit<CommandMessage, 'correlationId' | 'causationId'>) =>
    registry.app.get(RegistryCommands).send(service, { ...command, correlationId: randomUUID(), causationId: null });

  /** Registers the next version, takes it to Production (no approval needed) and reports its deployment as the deployer would. */
  const serve = async (model: string, version: number) => {
    await registry.http('POST', `/api/v1/models/${model}/versions`, { body: { source: `https://models.example.com/${model}-${version}.onnx` } });
    await registry.http('POST', `/api/v1/models/${model}/versions/${version}/transitions`, { body: { toStage: 'Staging' } });
    await registry.http('POST', `/api/v1/models/${model}/versions/${version}/transitions`, { body: { toStage: 'Production' } });
    const deploymentId = ((await versionOf(model, version)).deployments.at(-1) as { id: string }).id;
    await send('deployer', { commandId: randomUUID(), type: 'RecordDeploymentStarted', model, version, data: { deploymentId, environment: 'production', target: 'local' } });
    await send('deployer', { commandId: randomUUID(), type: 'RecordDeploymentSucceeded', model, version, data: { deploymentId, endpoint: null } });
  };

  const versionOf = async (model: string, version: number) => (await registry.http('GET', `/api/v1/models/${model}/versions/${version}`)).body;
  const auditOf = async (model: string, version: number): Promise<AuditEvent[]> =>
    (await registry.http('GET', `/api/v1/models/${model}/versions/${version}/audit`)).body.events;
  const deadLetterReasons = async (): Promise<string[]> =>
    (await registry.app.get<EventStore>(EVENT_STORE).readStream(deadLetterStream('mrw-registry'))).map((l) => (l.data as { reason: string }).reason);

  const window = (hour: number) => ({
    from: `2026-03-02T${String(hour).padStart(2, '0')}:00:00.000Z`,
    to: `2026-03-02T${String(hour + 1).padStart(2, '0')}:00:00.000Z`,
    for: 'PT1H',
    samples: 12,
    worst: 0.71,
    mean: 0.78,
  });
  const breach = (model: string, version: number, hour: number, commandId: string = randomUUID()) => ({
    commandId,
    type: 'RecordLiveMetricBreach',
    model,
    version,
    data: { metric: 'accuracy', direction: 'below', threshold: 0.85, window: window(hour) },
  });

  it('records an archival with its rule, parameters and evidence in the audit trail; evidence that is not a plain object is left out', async () => {
    await registry.http('POST', '/api/v1/models/svc/versions', { body: { source: 'https://models.example.com/svc-3.onnx' } });
    await registry.http('POST', '/api/v1/models/svc/versions', { body: { source: 'https://models.example.com/svc-4.onnx' } });
    const evidence = { stageSince: '2026-02-01T00:00:00.000Z', dueAt: '2026-02-08T00:00:00.000Z' };
    await send('archival', {
      commandId: randomUUID(),
      type: 'ArchiveModelVersion',
      model: 'svc',
      version: 3,
      data: { rule: 'staleAfter', detail: 'in None since 2026-02-01, longer than P7D', parameters: { staleAfter: 'P7D' }, evidence },
    });
    await send('archival', {
      commandId: randomUUID(),
      type: 'ArchiveModelVersion',
      model: 'svc',
      version: 4,
      data: { rule: 'keepAtMost', detail: 'more than 3 versions', parameters: { keepAtMost: 3 }, evidence: ['not', 'an', 'object'] },
    });

    const archived = (await auditOf('svc', 3)).filter((e) => e.type === 'StageTransitioned');
    expect(archived).toEqual([
      expect.objectContaining({
        actor: { kind: 'service', id: 'archival' },
        data: {
          fromStage: 'None',
          toStage: 'Archived',
          trigger: { kind: 'archival', rule: 'staleAfter', detail: 'in None since 2026-02-01, longer than P7D', parameters: { staleAfter: 'P7D' }, evidence },
        },
      }),
    ]);
    const [fourth] = (await auditOf('svc', 4)).filter((e) => e.type === 'StageTransitioned');
    expect(fourth?.data['trigger']).toEqual({ kind: 'archival', rule: 'keepAtMost', detail: 'more than 3 versions', parameters: { keepAtMost: 3 } });
  });

  it('records a breach on the serving version once, shows it on the version, and refuses it on a version that does not serve', async () => {
    const first = breach('svc', 2, 9);
    await send('archival', first);
    await send('archival', first);

    const shown = await versionOf('svc', 2);
    expect(shown).toMatchObject({ stage: 'Production', serving: true });
    expect(shown.liveMetricBreaches).toEqual([
      { metric: 'accuracy', direction: 'below', threshold: 0.85, window: window(9), rollbackRequested: false, at: expect.any(String) },
    ]);
    const recorded = (await auditOf('svc', 2)).filter((e) => e.type === 'LiveMetricBreached');
    expect(recorded).toHaveLength(1);
    expect(recorded[0]?.actor).toEqual({ kind: 'service', id: 'archival' });

    const before = (await auditOf('svc', 1)).length;
    await send('archival', breach('svc', 1, 9));
    expect(await auditOf('svc', 1)).toHaveLength(before);
    expect((await deadLetterReasons()).filter((r) => r.includes('RecordLiveMetricBreach') || r.includes('NOT_SERVING'))).toEqual([
      expect.stringMatching(/^PoisonMessageError: refused: NOT_SERVING version 1 does not serve \(v2 serves\)/),
    ]);
    // The policy does not ask for a rollback: none was requested.
    expect((await auditOf('svc', 1)).map((e) => e.type)).not.toContain('RollbackRequested');
  });

  it('with liveMetric.rollback: true, requests a rollback to the version that served before, as the archival service, once', async () => {
    await setPolicy('svc', true);
    const second = breach('svc', 2, 10);
    await send('archival', second);
    await send('archival', second);

    expect((await versionOf('svc', 2)).liveMetricBreaches.at(-1)).toMatchObject({ window: window(10), rollbackRequested: true });
    const pending = await registry.http('GET', '/api/v1/approvals?model=svc&status=pending');
    expect(pending.body.items).toEqual([expect.objectContaining({ version: 1, purpose: 'rollback', afterTheFact: false })]);

    const target = await versionOf('svc', 1);
    expect(target.requests.filter((r: { kind: string }) => r.kind === 'rollback')).toEqual([
      expect.objectContaining({
        status: 'awaiting-approval',
        requestedBy: { kind: 'service', id: 'archival' },
        comment: expect.stringMatching(/^automatic rollback: live accuracy of v2 stayed below 0\.85 for PT1H \(worst 0\.71, mean 0\.78, 12 samples/),
      }),
    ]);
    const rollbacks = (await auditOf('svc', 1)).filter((e) => e.type === 'RollbackRequested');
    expect(rollbacks).toHaveLength(1);
    expect(rollbacks[0]).toMatchObject({ actor: { kind: 'service', id: 'archival' }, data: { fromVersion: 2, emergency: false } });
  });

  it('records the breach only when there is nothing to roll back to', async () => {
    await setPolicy('solo', true);
    await send('archival', breach('solo', 1, 9));
    expect((await versionOf('solo', 1)).liveMetricBreaches).toEqual([expect.objectContaining({ rollbackRequested: false })]);
    expect((await auditOf('solo', 1)).map((e) => e.type)).not.toContain('RollbackRequested');
  });

  it('dead-letters a breach whose window is malformed, appending nothing', async () => {
    const before = (await auditOf('svc', 2)).length;
    await send('archival', { ...breach('svc', 2, 11), data: { metric: 'accuracy', direction: 'sideways', threshold: 0.85, window: window(11) } });
    expect(await auditOf('svc', 2)).toHaveLength(before);
    expect(await deadLetterReasons()).toContain('PoisonMessageError: RecordLiveMetricBreach: data.direction must be "below" or "above"');
  });
});
