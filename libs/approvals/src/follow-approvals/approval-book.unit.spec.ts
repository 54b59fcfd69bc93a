import type { RecordedEvent } from '@mrw/event-store';
import { ApprovalBook, statusAt, type RecordedDecision } from './approval-book';

const STREAM = 'modelVersion-churn@3';
const APPROVAL = '7d1c6f0e-0c55-4b6b-9d8e-00000000000a';
let position = 0n;

const recorded = (type: string, data: unknown, options: { eventId?: string; stream?: string; at?: string; actor?: string } = {}): RecordedEvent => {
  position += 1n;
  return {
    streamName: options.stream ?? STREAM,
    revision: Number(position),
    position,
    type,
    data,
    metadata: {
      eventId: options.eventId ?? `e-${position}`,
      occurredAt: options.at ?? '2026-11-30T10:00:00.000Z',
      actor: { kind: 'user', id: options.actor ?? 'carol' },
      correlationId: 'c',
      causationId: null,
      schemaVersion: 1,
      prevHash: null,
      hash: 'h',
    },
  };
};

const evidence = { evaluationId: 'ev-1', datasetDigest: 'sha256:aa', championVersion: 2 };
const requested = (): RecordedEvent[] => [
  recorded('StageTransitionRequested', { requestId: 'r-1', fromStage: 'Staging', toStage: 'Production', comment: 'ship it', requestedBy: { kind: 'user', id: 'carol' } }),
  recorded('ApprovalRequested', {
    approvalId: APPROVAL,
    requestId: 'r-1',
    purpose: 'promotion',
    targetStage: 'Production',
    rule: { required: 2, reviewers: ['role:reviewer'], expiresIn: 'P3D', notify: [{ kind: 'slack', webhookUrl: 'secret' }] },
    requestedBy: { kind: 'user', id: 'carol' },
    expiresAt: '2026-12-03T10:00:00.000Z',
    evidence,
    checks: [],
    afterTheFact: false,
  }),
];
const granted = (by: string, eventId: string, count: number) =>
  recorded('ApprovalGranted', { approvalId: APPROVAL, by: { kind: 'user', id: by }, comment: '', channel: 'link', count, required: 2 }, { eventId });

describe('the approval book (the approvals service’s fold of approval events)', () => {
  it('knows an approval with its version, requester, comment and evidence, and nothing of its channel settings', () => {
    const book = new ApprovalBook();
    requested().forEach((e) => book.apply(e));
    const approval = book.get(APPROVAL);
    expect(approval).toMatchObject({ model: 'churn', version: 3, status: 'pending', comment: 'ship it', required: 2, evidence, requestedBy: { id: 'carol' } });
    expect(JSON.stringify(approval)).not.toContain('secret');
  });

  it('finds a decision by the id of the command that made it, tells listeners once, and counts it once when redelivered', () => {
    const book = new ApprovalBook();
    const heard: RecordedDecision[] = [];
    book.onDecision((d) => heard.push(d));
    requested().forEach((e) => book.apply(e));
    const grant = granted('rita', 'cmd-1', 1);
    book.apply(grant);
    book.apply(grant);
    expect(book.decisionRecordedBy('cmd-1')).toMatchObject({ decision: 'approve', by: { id: 'rita' }, channel: 'link', count: 1, required: 2 });
    expect(heard).toHaveLength(1);
    expect(book.get(APPROVAL)?.approvals).toHaveLength(1);
  });

  it('closes on quorum or rejection, and voids collected approvals when the evidence changes (rule 5)', () => {
    const book = new ApprovalBook();
    requested().forEach((e) => book.apply(e));
    book.apply(granted('rita', 'cmd-1', 1));
    const current = { ...evidence, evaluationId: 'ev-2' };
    book.apply(recorded('ApprovalEvidenceChanged', { approvalId: APPROVAL, previous: evidence, current, voided: [{ kind: 'user', id: 'rita' }], outcome: 'reopened', checks: [] }));
    expect(book.get(APPROVAL)).toMatchObject({ status: 'pending', approvals: [], evidence: current });
    book.apply(recorded('ApprovalEvidenceChanged', { approvalId: APPROVAL, previous: current, current, voided: [], outcome: 'closed', checks: [] }));
    expect(book.get(APPROVAL)?.status).toBe('void');

    const other = new ApprovalBook();
    requested().forEach((e) => other.apply(e));
    other.apply(recorded('ApprovalRejected', { approvalId: APPROVAL, by: { kind: 'user', id: 'rolf' }, comment: 'no' }));
    expect(other.get(APPROVAL)).toMatchObject({ status: 'rejected', rejection: { by: { id: 'rolf' }, channel: 'api' } });
  });

  it('reads a pending approval past its expiry as expired before the registry records it', () => {
    const book = new ApprovalBook();
    requested().forEach((e) => book.apply(e));
    const approval = book.get(APPROVAL);
    expect(approval && statusAt(approval, new Date('2026-12-03T09:59:59Z'))).toBe('pending');
    expect(approval && statusAt(approval, new Date('2026-12-03T10:00:00Z'))).toBe('expired');
  });
});
