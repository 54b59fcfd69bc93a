import type { Comparison } from '@mrw/contracts';
import { isDecidable, keyMetricsOf, type ApprovalNotice } from './approval-notice';
import { formatCi, formatNumber, formatSigned, formatTime, headline, metricSummary } from './notice-text';
import { sampleNotice } from './testing/sample-notice';

describe('approval notices', () => {
  const comparison: Comparison = {
    championVersion: 6,
    metrics: {
      accuracy: { candidate: 0.912, champion: 0.89, difference: 0.022, ci: { lower: 0.01, upper: 0.034, level: 0.95 } },
      log_loss: { candidate: 0.31, champion: 0.33, difference: -0.02 },
    },
  };

  it('puts each candidate metric next to the champion’s from the comparison, chosen ones first', () => {
    expect(keyMetricsOf({ f1: 0.7, log_loss: 0.31, accuracy: 0.912 }, comparison, ['accuracy'])).toEqual([
      { metric: 'accuracy', candidate: 0.912, champion: 0.89, difference: 0.022, ci: { lower: 0.01, upper: 0.034, level: 0.95 } },
      { metric: 'f1', candidate: 0.7 },
      { metric: 'log_loss', candidate: 0.31, champion: 0.33, difference: -0.02 },
    ]);
  });

  it('has only the candidate’s values when nothing serves yet', () => {
    expect(keyMetricsOf({ accuracy: 0.9 }, null)).toEqual([{ metric: 'accuracy', candidate: 0.9 }]);
  });

  it('is decidable while the approval is open, or re-opened after a void', () => {
    const base = sampleNotice();
    const notices: Array<[ApprovalNotice, boolean]> = [
      [base, true],
      [{ ...base, kind: 'reminder' }, true],
      [{ ...base, kind: 'escalation' }, true],
      [{ ...base, kind: 'expired' }, false],
      [{ ...base, kind: 'voided', reason: 'a new evaluation replaced eval-7f3a', outcome: 'reopened', voided: [] }, true],
      [{ ...base, kind: 'voided', reason: 'v6 no longer serves', outcome: 'closed', voided: [] }, false],
      [{ ...base, kind: 'gate-refused', requestId: 'req-1' }, false],
    ];
    expect(notices.map(([n]) => isDecidable(n))).toEqual(notices.map(([, d]) => d));
  });

  it('words numbers, intervals and times the same way for every channel', () => {
    expect([formatNumber(0.912), formatSigned(0.022), formatSigned(-0.002), formatNumber(0.00001234)]).toEqual(['0.9120', '+0.0220', '-0.0020', '1.23e-5']);
    expect(formatCi({ lower: -0.002, upper: 0.008, level: 0.95 })).toBe('95% CI [-0.0020, +0.0080]');
    expect(formatTime('2026-03-04T09:30:00.000Z')).toBe('2026-03-04 09:30 UTC');
    expect(metricSummary({ metric: 'accuracy', candidate: 0.912, champion: 0.89, difference: 0.022, ci: { lower: 0.01, upper: 0.034, level: 0.95 } })).toBe(
      '0.9120 vs 0.8900: +0.0220, 95% CI [+0.0100, +0.0340]',
    );
  });

  it('names a rollback and an after-the-fact review in the headline', () => {
    expect(headline(sampleNotice())).toBe('Approval needed: churn v7 → Production');
    expect(headline(sampleNotice({ purpose: 'rollback', version: 5, afterTheFact: true }))).toBe('Review needed: emergency rollback of churn to v5');
  });
});
