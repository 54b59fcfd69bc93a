import type { ModelVersionEvent } from '@mrw/contracts';
import { evolveVersionRecord, type VersionRecord } from './catalog.projection';

const actor = { kind: 'user', id: 'ada' } as const;
const versionEvent = (type: string, data: Record<string, unknown> = {}) => ({ type, data }) as unknown as ModelVersionEvent;

const registered = (): VersionRecord =>
  evolveVersionRecord(
    undefined,
    'churn',
    3,
    versionEvent('ModelVersionRegistered', { source: 's3://m/3', artifactDigest: null, tags: { team: 'risk' }, registeredBy: actor }),
    't0',
  ) as VersionRecord;

describe('the version rows of the catalog', () => {
  it('makes a version row from ModelVersionRegistered and moves it through the board', () => {
    const row = registered();
    expect(row).toEqual({
      model: 'churn', version: 3, stage: 'None', source: 's3://m/3', digest: null, tags: { team: 'risk' }, registeredBy: 'ada', registeredAt: 't0',
      updatedAt: 't0', evaluationStatus: null, evaluationPassed: null, pendingApproval: null, serving: false,
    });
    const steps: Array<[ModelVersionEvent, Partial<VersionRecord>]> = [
      [versionEvent('ModelVersionTagSet', { key: 'run', value: '7' }), { tags: { team: 'risk', run: '7' } }],
      [versionEvent('ModelVersionTagRemoved', { key: 'team' }), { tags: { run: '7' } }],
      [versionEvent('ModelVersionDescriptionUpdated', { description: 'x' }), {}],
      [versionEvent('StageTransitioned', { fromStage: 'None', toStage: 'Staging' }), { stage: 'Staging' }],
      [versionEvent('EvaluationRequested', {}), { evaluationStatus: 'running', evaluationPassed: null }],
      [versionEvent('EvaluationCompleted', { verdict: { passed: false } }), { evaluationStatus: 'completed', evaluationPassed: false }],
      [versionEvent('EvaluationFailed', {}), { evaluationStatus: 'failed', evaluationPassed: null }],
      [versionEvent('ApprovalRequested', { approvalId: 'a1', afterTheFact: false }), { pendingApproval: 'a1' }],
      [versionEvent('ApprovalQuorumReached', {}), { pendingApproval: null }],
      [versionEvent('ApprovalRequested', { approvalId: 'a2', afterTheFact: false }), { pendingApproval: 'a2' }],
      [versionEvent('ApprovalRejected', {}), { pendingApproval: null }],
      [versionEvent('ApprovalRequested', { approvalId: 'a3', afterTheFact: false }), { pendingApproval: 'a3' }],
      [versionEvent('ApprovalExpired', {}), { pendingApproval: null }],
      [versionEvent('ApprovalRequested', { approvalId: 'a4', afterTheFact: false }), { pendingApproval: 'a4' }],
      [versionEvent('ApprovalEvidenceChanged', { outcome: 'closed' }), { pendingApproval: null }],
      [versionEvent('DeploymentSucceeded', {}), { serving: true }],
      [versionEvent('ServingEnded', {}), { serving: false }],
    ];
    // Each step is checked against the whole row: what it changes, and that nothing else moved.
    let expectedRow: VersionRecord = structuredClone(row);
    steps.forEach(([event, change], i) => {
      expect(evolveVersionRecord(row, 'churn', 3, event, `t${i + 1}`)).toBe(row);
      expectedRow = { ...expectedRow, ...change, updatedAt: `t${i + 1}` };
      expect(row).toEqual(expectedRow);
    });
  });

  it('changes nothing for a version it has no row of, a second registration, an approval after the fact, evidence that keeps an approval open, or an event the board does not show', () => {
    expect(evolveVersionRecord(undefined, 'churn', 3, versionEvent('StageTransitioned', { toStage: 'Staging' }), 't1')).toBeUndefined();
    const row = registered();
    const unchanged = [
      versionEvent('ModelVersionRegistered', { source: 'other', artifactDigest: null, tags: {}, registeredBy: actor }),
      versionEvent('ApprovalRequested', { approvalId: 'a1', afterTheFact: true }),
      versionEvent('ApprovalEvidenceChanged', { outcome: 'reopened' }),
      versionEvent('ApprovalGranted', { approvalId: 'a1' }),
      versionEvent('EvaluationProgressed', { rowsDone: 1, rowsTotal: 2 }),
    ];
    for (const event of unchanged) expect(evolveVersionRecord(row, 'churn', 3, event, 't9')).toBeUndefined();
    expect(row).toEqual(registered());
  });
});
