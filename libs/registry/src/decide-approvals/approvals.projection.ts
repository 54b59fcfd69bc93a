import type Database from 'better-sqlite3';
import { parseModelVersionStream, type ModelVersionEvent } from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';

/**
 * Every approval request and where it stands, for the reviewers' inbox: opened by
 * `ApprovalRequested`, moved by grants, rejections, quorum, expiry and evidence changes
 * (`closed` by the gates is shown as `void`). The request's comment is kept from its
 * `StageTransitionRequested` (or the rollback's reason).
 */
export class ApprovalsProjection {
  private readonly comment;
  private readonly commentOf;
  private readonly open;
  private readonly get;
  private readonly update;
  private readonly notificationsOf;
  private readonly result;
  private readonly setNotifications;

  constructor(db: Database.Database) {
    this.comment = db.prepare(`INSERT OR REPLACE INTO request_comments (stream, request_id, comment) VALUES (?, ?, ?)`);
    this.commentOf = db.prepare(`SELECT comment FROM request_comments WHERE stream = ? AND request_id = ?`);
    this.open = db.prepare(
      `INSERT OR IGNORE INTO approvals (approval_id, position, model, version, purpose, target_stage, status, requested_by, comment,
         requested_at, expires_at, rule, evidence, checks, after_the_fact, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.get = db.prepare(`SELECT approvals, status FROM approvals WHERE approval_id = ?`);
    this.result = db.prepare(`INSERT OR REPLACE INTO evaluation_results (evaluation_id, metrics, comparison) VALUES (?, ?, ?)`);
    this.notificationsOf = db.prepare(`SELECT notifications FROM approvals WHERE approval_id = ?`);
    this.setNotifications = db.prepare(`UPDATE approvals SET notifications = ? WHERE approval_id = ?`);
    this.update = db.prepare(
      `UPDATE approvals SET status = COALESCE(?, status), approvals = COALESCE(?, approvals), rejection = COALESCE(?, rejection),
         evidence = COALESCE(?, evidence), checks = COALESCE(?, checks), updated_at = ? WHERE approval_id = ?`,
    );
  }

  apply(recorded: RecordedEvent): void {
    const target = parseModelVersionStream(recorded.streamName);
    if (!target) return;
    const at = recorded.metadata.occurredAt;
    const event = recorded as unknown as ModelVersionEvent;
    const change = (approvalId: string, fields: { status?: string; approvals?: unknown[]; rejection?: unknown; evidence?: unknown; checks?: unknown }) =>
      this.update.run(
        fields.status ?? null,
        fields.approvals ? JSON.stringify(fields.approvals) : null,
        fields.rejection ? JSON.stringify(fields.rejection) : null,
        fields.evidence ? JSON.stringify(fields.evidence) : null,
        fields.checks ? JSON.stringify(fields.checks) : null,
        at,
        approvalId,
      );
    const collected = (approvalId: string): unknown[] => {
      const row = this.get.get(approvalId) as { approvals: string } | undefined;
      return row ? (JSON.parse(row.approvals) as unknown[]) : [];
    };
    switch (event.type) {
      case 'StageTransitionRequested':
        this.comment.run(recorded.streamName, event.data.requestId, event.data.comment);
        return;
      case 'RollbackRequested':
        this.comment.run(recorded.streamName, event.data.rollbackId, event.data.reason);
        return;
      case 'EvaluationCompleted':
        // What an approval's evidence names: its metrics next to the champion's, for the inbox.
        this.result.run(event.data.evaluationId, JSON.stringify(event.data.metrics), event.data.comparison ? JSON.stringify(event.data.comparison) : null);
        return;
      case 'ApprovalRequested': {
        const d = event.data;
        const comment = (this.commentOf.get(recorded.streamName, d.requestId) as { comment: string } | undefined)?.comment ?? '';
        this.open.run(
          d.approvalId,
          recorded.position,
          target.model,
          target.version,
          d.purpose,
          d.targetStage,
          JSON.stringify(d.requestedBy),
          comment,
          at,
          d.expiresAt,
          JSON.stringify(d.rule),
          JSON.stringify(d.evidence),
          JSON.stringify(d.checks),
          d.afterTheFact ? 1 : 0,
          at,
        );
        return;
      }
      case 'ApprovalGranted': {
        const d = event.data;
        const decision = { by: d.by, at, comment: d.comment, channel: d.channel ?? 'api', ...(d.relayedBy ? { relayedBy: d.relayedBy } : {}) };
        change(d.approvalId, { approvals: [...collected(d.approvalId), decision] });
        return;
      }
      case 'ApprovalQuorumReached':
        change(event.data.approvalId, { status: 'approved' });
        return;
      case 'ApprovalRejected': {
        const d = event.data;
        change(d.approvalId, { status: 'rejected', rejection: { by: d.by, at, comment: d.comment, channel: d.channel ?? 'api' } });
        return;
      }
      case 'ApprovalExpired':
        change(event.data.approvalId, { status: 'expired' });
        return;
      case 'ApprovalNotificationRecorded': {
        const d = event.data;
        const row = this.notificationsOf.get(d.approvalId) as { notifications: string } | undefined;
        if (!row) return;
        const entry = { notice: d.notice, channel: d.channel, target: d.target, recipient: d.recipient, outcome: d.outcome, attempts: d.attempts, reason: d.reason, at, noticeId: d.noticeId };
        // One line per delivery (notice, channel, recipient): a later report of the same one replaces it.
        const others = (JSON.parse(row.notifications) as Array<{ noticeId: string; recipient: string | null }>).filter(
          (n) => !(n.noticeId === d.noticeId && n.recipient === d.recipient),
        );
        this.setNotifications.run(JSON.stringify([...others, entry]), d.approvalId);
        return;
      }
      case 'ApprovalEvidenceChanged': {
        const d = event.data;
        // The collected approvals are void either way; the request re-opens or closes.
        change(d.approvalId, { status: d.outcome === 'closed' ? 'void' : 'pending', approvals: [], evidence: d.current, checks: d.checks });
        return;
      }
      default:
        return;
    }
  }
}
