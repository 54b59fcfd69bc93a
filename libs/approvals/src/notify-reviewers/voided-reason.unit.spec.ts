import { voidReason } from './notify-reviewers';

describe('why approvals were void', () => {
  const before = { evaluationId: 'e1', datasetDigest: 'sha256:aaa', championVersion: 6 };

  it('names a new evaluation and a changed set', () => {
    expect(voidReason(before, { evaluationId: 'e2', datasetDigest: 'sha256:bbb', championVersion: 6 })).toBe(
      'A new evaluation (e2) replaced e1; the evaluation set is now sha256:bbb (was sha256:aaa)',
    );
  });

  it('names a champion that changed or stopped serving', () => {
    expect(voidReason(before, { ...before, championVersion: 7 })).toBe('The champion is now v7 (was v6)');
    expect(voidReason(before, { ...before, championVersion: null })).toBe('The champion v6 no longer serves');
  });
});
