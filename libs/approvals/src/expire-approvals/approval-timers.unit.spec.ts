import type { RecordedEvent } from '@mrw/event-store';
import { deriveId } from '@mrw/contracts';
import { PoisonMessageError } from '@mrw/messaging';
import { approvalClosedBy, approvalTimerIds, expireApprovalCommand, expiryTimerOf, EXPIRY_GRACE_MS } from './approval-timers';

const recorded = (type: string, data: Record<string, unknown>, streamName = 'modelVersion-churn.v2@7'): RecordedEvent => ({
  streamName,
  revision: 3,
  position: 42n,
  type,
  data,
  metadata: {
    eventId: '0b7f1a52-1c1e-4e43-9a4e-7b1b0c0de001',
    occurredAt: '2025-03-01T09:00:00.000Z',
    actor: { kind: 'user', id: 'carol' },
    correlationId: '0b7f1a52-1c1e-4e43-9a4e-7b1b0c0de002',
    causationId: null,
    schemaVersion: 1,
    prevHash: null,
    hash: 'sha256:0',
  },
});

describe('approval timers', () => {
  const requested = recorded('ApprovalRequested', { approvalId: 'ap-1', expiresAt: '2025-03-08T09:00:00.000Z', afterTheFact: false });

  it('schedules the expiry of an opened approval at its expiry plus the clock-skew grace, with what the command needs', () => {
    expect(expiryTimerOf(requested)).toEqual({
      id: approvalTimerIds('ap-1').expiry,
      kind: 'approval-expiry',
      dueAt: new Date(Date.parse('2025-03-08T09:00:00.000Z') + EXPIRY_GRACE_MS),
      payload: {
        approvalId: 'ap-1',
        model: 'churn.v2',
        version: 7,
        expiresAt: '2025-03-08T09:00:00.000Z',
        correlationId: '0b7f1a52-1c1e-4e43-9a4e-7b1b0c0de002',
        causationId: '0b7f1a52-1c1e-4e43-9a4e-7b1b0c0de001',
      },
    });
  });

  it('expires after-the-fact reviews too', () => {
    const review = recorded('ApprovalRequested', { approvalId: 'ap-2', expiresAt: '2025-03-02T09:00:00.000Z', afterTheFact: true });
    expect(expiryTimerOf(review).payload.approvalId).toBe('ap-2');
  });

  it.each([
    ['a stream that is not a model version', recorded('ApprovalRequested', { approvalId: 'ap-1', expiresAt: '2025-03-08T09:00:00.000Z' }, 'model-churn')],
    ['no approval id', recorded('ApprovalRequested', { expiresAt: '2025-03-08T09:00:00.000Z' })],
    ['no expiry time', recorded('ApprovalRequested', { approvalId: 'ap-1', expiresAt: 'soon' })],
  ])('treats an ApprovalRequested with %s as poison', (_, event) => {
    expect(() => expiryTimerOf(event)).toThrow(PoisonMessageError);
  });

  it.each([
    ['ApprovalQuorumReached', {}, 'ap-1'],
    ['ApprovalRejected', {}, 'ap-1'],
    ['ApprovalExpired', {}, 'ap-1'],
    ['ApprovalEvidenceChanged', { outcome: 'closed' }, 'ap-1'],
    ['ApprovalEvidenceChanged', { outcome: 'reopened' }, undefined],
    ['ApprovalGranted', {}, undefined],
  ])('%s %j closes %s', (type, extra, closed) => {
    expect(approvalClosedBy(recorded(type, { approvalId: 'ap-1', ...extra }))).toBe(closed);
  });

  it('sends ExpireApproval with an id derived from the approval, so a second firing is a replay', () => {
    const { payload } = expiryTimerOf(requested);
    const command = expireApprovalCommand(payload);
    expect(command).toEqual({
      commandId: deriveId('ap-1', 'expire'),
      type: 'ExpireApproval',
      model: 'churn.v2',
      version: 7,
      data: { approvalId: 'ap-1' },
      correlationId: payload.correlationId,
      causationId: payload.causationId,
    });
    expect(expireApprovalCommand(payload).commandId).toBe(command.commandId);
  });

  it('names the timers of one approval apart from another’s', () => {
    const ids = [...Object.values(approvalTimerIds('ap-1')), ...Object.values(approvalTimerIds('ap-2'))];
    expect(new Set(ids).size).toBe(6);
  });
});
