import { Inject, Injectable } from '@nestjs/common';
import type Database from 'better-sqlite3';
import type { Actor, ApprovalRule, Comparison, MetricComparison } from '@mrw/contracts';
import { CLOCK, type AuthPrincipal, type Clock } from '@mrw/platform';
import { READ_MODEL_DB } from '../projections/registry-projector';

interface ApprovalRow {
  approval_id: string;
  model: string;
  version: number;
  purpose: 'promotion' | 'rollback';
  target_stage: string;
  status: string;
  requested_by: string;
  comment: string;
  requested_at: string;
  expires_at: string;
  rule: string;
  evidence: string;
  checks: string;
  approvals: string;
  rejection: string | null;
  after_the_fact: number;
  notifications: string;
  updated_at: string;
}

export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'expired', 'void'] as const;
export type ApprovalStatusFilter = (typeof APPROVAL_STATUSES)[number];

export interface ApprovalFilter {
  readonly status?: ApprovalStatusFilter;
  readonly model?: string;
  /** Only requests this principal may decide now (`reviewer=me`). */
  readonly reviewer?: AuthPrincipal;
  /** A scoped caller's models; undefined for every model. */
  readonly scope?: readonly string[];
  readonly limit: number;
  readonly offset: number;
}

export interface ApprovalSummary {
  readonly id: string;
  readonly model: string;
  readonly version: number;
  readonly purpose: 'promotion' | 'rollback';
  readonly targetStage: string;
  readonly status: string;
  readonly requestedBy: Actor;
  readonly comment: string;
  readonly openedAt: string;
  readonly expiresAt: string;
  readonly afterTheFact: boolean;
  readonly required: number;
  readonly collected: number;
  readonly reviewers: readonly string[];
  readonly decisions: ReadonlyArray<{ by: Actor; at: string; comment: string; channel: string }>;
  readonly rejection: { by: Actor; at: string; comment: string; channel: string } | null;
  readonly evidence: unknown;
  /** The evidence's evaluation: each metric of the candidate next to the champion's, with the difference and its 95% CI. */
  readonly keyMetrics: ReadonlyArray<{ metric: string; candidate: number; champion?: number; difference?: number; ci?: MetricComparison['ci'] }>;
  readonly checks: unknown;
  /** Who was told on which channel, and whether it reached them. */
  readonly notifications: ReadonlyArray<{ notice: string; channel: string; target: string; recipient: string | null; outcome: string; attempts: number; reason: string | null; at: string }>;
  readonly updatedAt: string;
}

/** Whether `principal` may decide this request now: in its reviewer group and scope, not its requester, not decided already. */
export const mayDecide = (summary: ApprovalSummary, principal: AuthPrincipal): boolean => {
  const inScope = principal.models.length === 0 || principal.models.includes(summary.model);
  const inGroup = summary.reviewers.some((entry) =>
    entry.startsWith('role:') ? principal.roles.some((role) => `role:${role}` === entry) : entry === `user:${principal.actor.id}` && principal.actor.kind === 'user',
  );
  const same = (a: Actor) => a.kind === principal.actor.kind && a.id === principal.actor.id;
  return inScope && inGroup && !same(summary.requestedBy) && !summary.decisions.some((d) => same(d.by));
};

/** The approvals inbox from the read model; a pending request past its expiry shows as expired. */
@Injectable()
export class ApprovalQueries {
  constructor(
    @Inject(READ_MODEL_DB) private readonly db: Database.Database,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  list(filter: ApprovalFilter): { total: number; items: ApprovalSummary[] } {
    const where: string[] = [];
    const params: unknown[] = [];
    const now = this.clock.now().toISOString();
    if (filter.model) (where.push('model = ?'), params.push(filter.model));
    if (filter.scope) (where.push('model IN (SELECT value FROM json_each(?))'), params.push(JSON.stringify(filter.scope)));
    if (filter.status === 'pending' || filter.reviewer) (where.push(`status = 'pending' AND expires_at > ?`), params.push(now));
    else if (filter.status === 'expired') (where.push(`(status = 'expired' OR (status = 'pending' AND expires_at <= ?))`), params.push(now));
    else if (filter.status) (where.push('status = ?'), params.push(filter.status));
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    let rows = (this.db.prepare(`SELECT * FROM approvals ${clause} ORDER BY position`).all(...params) as ApprovalRow[]).map((r) => this.summary(r, now));
    if (filter.reviewer) rows = rows.filter((s) => mayDecide(s, filter.reviewer as AuthPrincipal));
    return { total: rows.length, items: rows.slice(filter.offset, filter.offset + filter.limit) };
  }

  get(id: string): ApprovalSummary | undefined {
    const row = this.db.prepare(`SELECT * FROM approvals WHERE approval_id = ?`).get(id) as ApprovalRow | undefined;
    return row ? this.summary(row, this.clock.now().toISOString()) : undefined;
  }

  private keyMetricsOf(evaluationId: string | null): ApprovalSummary['keyMetrics'] {
    if (!evaluationId) return [];
    const row = this.db.prepare(`SELECT metrics, comparison FROM evaluation_results WHERE evaluation_id = ?`).get(evaluationId) as
      | { metrics: string; comparison: string | null }
      | undefined;
    if (!row) return [];
    const metrics = JSON.parse(row.metrics) as Record<string, number>;
    const compared = row.comparison ? (JSON.parse(row.comparison) as Comparison).metrics : {};
    return Object.entries(metrics).map(([metric, candidate]) => {
      const vs = compared[metric];
      return { metric, candidate, ...(vs ? { champion: vs.champion, difference: vs.difference, ...(vs.ci ? { ci: vs.ci } : {}) } : {}) };
    });
  }

  private summary(row: ApprovalRow, now: string): ApprovalSummary {
    const rule = JSON.parse(row.rule) as ApprovalRule;
    const decisions = JSON.parse(row.approvals) as ApprovalSummary['decisions'];
    return {
      id: row.approval_id,
      model: row.model,
      version: row.version,
      purpose: row.purpose,
      targetStage: row.target_stage,
      status: row.status === 'pending' && row.expires_at <= now ? 'expired' : row.status,
      requestedBy: JSON.parse(row.requested_by) as Actor,
      comment: row.comment,
      openedAt: row.requested_at,
      expiresAt: row.expires_at,
      afterTheFact: row.after_the_fact === 1,
      required: rule.required,
      collected: decisions.length,
      reviewers: rule.reviewers,
      decisions,
      rejection: row.rejection ? (JSON.parse(row.rejection) as ApprovalSummary['rejection']) : null,
      evidence: JSON.parse(row.evidence) as unknown,
      keyMetrics: this.keyMetricsOf((JSON.parse(row.evidence) as { evaluationId: string | null }).evaluationId),
      checks: JSON.parse(row.checks) as unknown,
      notifications: (JSON.parse(row.notifications) as Array<ApprovalSummary['notifications'][number] & { noticeId?: string }>).map(
        ({ noticeId: _, ...n }) => n,
      ),
      updatedAt: row.updated_at,
    };
  }
}
