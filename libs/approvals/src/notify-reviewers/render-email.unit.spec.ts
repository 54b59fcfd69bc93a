import { escapeHtml, renderEmail } from './render-email';
import { HOSTILE_COMMENT, linksFor, SAMPLE_DIGEST, sampleNotice } from './testing/sample-notice';

describe('renderEmail', () => {
  const email = renderEmail(sampleNotice({ links: linksFor('bob') }));

  it('says what is asked in the subject', () => {
    expect(email.subject).toBe('[model registry] Approval needed: churn v7 → Production');
  });

  it('carries the evidence in the text: metrics next to the champion’s with difference and CI, the set digest, the checks and the links', () => {
    expect(email.text).toContain('accuracy: 0.9120 vs 0.8900, difference +0.0220, 95% CI [+0.0100, +0.0340]');
    expect(email.text).toContain('roc_auc: 0.9510 vs 0.9480, difference +0.0030, 95% CI [-0.0020, +0.0080]');
    expect(email.text).toContain(`Evaluation set: churn-holdout @ ${SAMPLE_DIGEST}`);
    expect(email.text).toContain('Champion: v6');
    expect(email.text).toContain('PASS accuracy threshold: 0.912 >= 0.85');
    expect(email.text).toContain(`Approve: ${linksFor('bob').approve}`);
    expect(email.text).toContain(`Reject: ${linksFor('bob').reject}`);
    expect(email.text).toContain(`Comment: ${HOSTILE_COMMENT}`);
  });

  it('escapes everything a user wrote in the HTML', () => {
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; &lt;!channel&gt;');
    expect(email.html).not.toContain('href="https://evil.example');
    expect(email.html).toContain(`href="${escapeHtml(linksFor('bob').approve)}"`);
    expect(email.html).toContain('<td style="padding:2px 10px;border-bottom:1px solid #d0d7de">95% CI [+0.0100, +0.0340]</td>');
  });

  it('offers no link that is not http(s)', () => {
    const html = renderEmail(sampleNotice({ links: { approve: 'javascript:alert(1)', reject: 'https://x.example/r', view: 'https://x.example/v' } })).html;
    expect(html).not.toContain('javascript:');
    expect(html).not.toContain('>Approve<');
  });

  it('keeps one-line headers whatever a name holds', () => {
    expect(renderEmail(sampleNotice({ model: 'churn\r\nBcc: victim@example.com' })).subject).not.toMatch(/[\r\n]/);
  });

  it('tells the requester of a refusal with the failing checks only, and offers no decision', () => {
    const refused = renderEmail({
      ...sampleNotice(),
      kind: 'gate-refused',
      requestId: 'req-9',
      checks: [
        { metric: 'accuracy', rule: 'threshold', passed: false, value: 0.8, expected: 0.85, detail: '0.8 < 0.85' },
        { metric: 'roc_auc', rule: 'threshold', passed: true, value: 0.9, expected: 0.5, detail: '0.9 >= 0.5' },
      ],
    });
    expect(refused.subject).toBe('[model registry] Refused by the automated gates: churn v7 → Production');
    expect(refused.text).toContain('Failing checks:\n  FAIL accuracy threshold: 0.8 < 0.85');
    expect(refused.text).not.toContain('roc_auc threshold');
    expect(refused.text).not.toContain('Approve:');
  });

  it('says why approvals were void', () => {
    const voided = renderEmail({ ...sampleNotice(), kind: 'voided', reason: 'A new evaluation (eval-8b1c) replaced eval-7f3a', outcome: 'reopened', voided: [{ kind: 'user', id: 'bob' }] });
    expect(voided.subject).toContain('Evidence changed');
    expect(voided.text).toContain('A new evaluation (eval-8b1c) replaced eval-7f3a. The approvals collected so far no longer count');
  });
});
