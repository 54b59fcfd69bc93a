import { escapeCardMarkdown, renderTeams } from './render-teams';
import { linksFor, SAMPLE_DIGEST, sampleNotice } from './testing/sample-notice';

describe('renderTeams', () => {
  const message = renderTeams(sampleNotice({ links: linksFor('team') }));
  const card = message.attachments[0].content;

  it('is a Workflows webhook message holding one Adaptive Card 1.4', () => {
    expect(message.type).toBe('message');
    expect(message.attachments).toHaveLength(1);
    expect(message.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect([card.type, card.version, card.$schema]).toEqual(['AdaptiveCard', '1.4', 'http://adaptivecards.io/schemas/adaptive-card.json']);
  });

  it('opens the approve, reject and view links', () => {
    expect(card.actions).toEqual([
      { type: 'Action.OpenUrl', title: 'Approve', url: linksFor('team').approve, style: 'positive' },
      { type: 'Action.OpenUrl', title: 'Reject', url: linksFor('team').reject, style: 'destructive' },
      { type: 'Action.OpenUrl', title: 'View', url: linksFor('team').view },
    ]);
  });

  it('shows the facts and the metrics next to the champion’s', () => {
    const facts = card.body.filter((e) => e['type'] === 'FactSet').flatMap((e) => e['facts'] as Array<{ title: string; value: string }>);
    expect(facts).toContainEqual({ title: 'Evaluation set', value: `churn-holdout @ sha256:${SAMPLE_DIGEST.slice(7)}` });
    expect(facts).toContainEqual({ title: 'accuracy', value: '0.9120 vs 0.8900: +0.0220, 95% CI \\[+0.0100, +0.0340\\]' });
  });

  it('escapes Markdown in what users wrote, so a comment cannot plant a link', () => {
    expect(JSON.stringify(card.body)).toContain('\\\\[click me\\\\]\\\\(https://evil.example/steal\\\\) \\\\*\\\\*now\\\\*\\\\*');
    expect(escapeCardMarkdown('- item\n1. first')).toBe('\\- item\n\n1\\. first');
  });

  it('offers only View once nothing can be decided', () => {
    const expired = renderTeams({ ...sampleNotice(), kind: 'expired' }).attachments[0].content;
    expect(expired.actions.map((a) => a['title'])).toEqual(['View']);
  });
});
