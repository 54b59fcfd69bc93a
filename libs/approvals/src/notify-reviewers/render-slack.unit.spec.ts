import { escapeSlack, renderSlack } from './render-slack';
import { SAMPLE_DIGEST, sampleNotice } from './testing/sample-notice';

type Block = { type: string; [key: string]: unknown };

describe('renderSlack', () => {
  const message = renderSlack(sampleNotice());
  const blocks = message.blocks as Block[];

  it('has a header, the facts as section fields, and the key metrics with difference and CI', () => {
    expect(blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Approval needed: churn v7 → Production', emoji: true } });
    const fields = blocks.find((b) => b.type === 'section' && 'fields' in b)?.['fields'] as Array<{ type: string; text: string }>;
    expect(fields.map((f) => f.text)).toEqual([
      '*Model*\nchurn',
      '*Version*\nv7',
      '*Target stage*\nProduction',
      '*Requested by*\nalice',
      `*Evaluation set*\nchurn-holdout @ ${SAMPLE_DIGEST}`,
      '*Champion*\nv6',
      '*Expires*\n2026-03-04 09:30 UTC',
    ]);
    expect(JSON.stringify(blocks)).toContain('• `accuracy` 0.9120 vs 0.8900: +0.0220, 95% CI [+0.0100, +0.0340]');
  });

  it('ends with Approve and Reject buttons carrying the approval id', () => {
    const actions = blocks.at(-1) as { type: string; block_id: string; elements: Array<Record<string, unknown>> };
    expect(actions.type).toBe('actions');
    expect(actions.block_id).toBe('approval:apr-0001');
    expect(actions.elements.map((e) => [e['type'], e['action_id'], e['value'], e['style']])).toEqual([
      ['button', 'approve', 'apr-0001', 'primary'],
      ['button', 'reject', 'apr-0001', 'danger'],
    ]);
  });

  it('neutralises mentions and links in a comment', () => {
    const comment = JSON.stringify(blocks.find((b) => JSON.stringify(b).includes('*Comment*')));
    expect(comment).toContain('&lt;!channel&gt;');
    expect(comment).not.toContain('<!channel>');
    expect(escapeSlack('<https://evil.example|ok> & co')).toBe('&lt;https://evil.example|ok&gt; &amp; co');
  });

  it('offers no buttons once nothing can be decided', () => {
    for (const notice of [
      { ...sampleNotice(), kind: 'expired' as const },
      { ...sampleNotice(), kind: 'gate-refused' as const, requestId: 'req-9' },
    ]) {
      expect(renderSlack(notice).blocks.some((b) => b['type'] === 'actions')).toBe(false);
    }
  });

  it('stays within Slack’s limits with a very long comment', () => {
    const long = renderSlack(sampleNotice({ comment: 'x'.repeat(10_000) }));
    for (const block of long.blocks) {
      const text = (block['text'] as { text?: string } | undefined)?.text ?? '';
      expect(text.length).toBeLessThanOrEqual(3_000);
    }
  });
});
