import { conclusionAfter, emptyRun, evolveRun, type RunEvent, type RunState } from './deployment-run';
import { parseTimeout } from './deployment-timers';

const ID = '0b7c2c5e-5d1a-4c3e-9f57-2f0a6c1d9e11';
const targets = [
  { kind: 'github-actions', environment: 'production' },
  { kind: 'argocd', environment: 'production' },
];

const given = (...events: RunEvent[]): RunState =>
  events.reduce((state, e, i) => evolveRun(state, { type: e.type, data: e.data, revision: i, at: `2026-01-01T00:00:0${i}.000Z` }), emptyRun);
const reported = (target: number, outcome: 'succeeded' | 'failed', extra: { endpoint?: string; message?: string } = {}): RunEvent => ({
  type: 'DeploymentTargetReported',
  data: { deploymentId: ID, target, outcome, via: 'callback', endpoint: extra.endpoint ?? null, message: extra.message ?? null },
});

describe('a deployment run concludes once', () => {
  it('waits while any target has not reported', () => {
    expect(conclusionAfter(given(reported(0, 'succeeded')), ID, targets)).toBeUndefined();
  });

  it('succeeds once every target succeeded, with the first endpoint given', () => {
    const state = given(reported(0, 'succeeded'), reported(1, 'succeeded', { endpoint: 'https://churn.example.com' }));
    expect(conclusionAfter(state, ID, targets)?.data).toEqual({ deploymentId: ID, outcome: 'succeeded', endpoint: 'https://churn.example.com', reason: null });
  });

  it('fails at the first failed target, naming it, without waiting for the others', () => {
    expect(conclusionAfter(given(reported(1, 'failed', { message: 'sync failed' })), ID, targets)?.data).toEqual({
      deploymentId: ID,
      outcome: 'failed',
      endpoint: null,
      reason: 'argocd (production): sync failed',
    });
  });

  it('concludes nothing more once concluded, and tracks the revision to expect', () => {
    const state = given(reported(1, 'failed'), { type: 'DeploymentConcluded', data: { deploymentId: ID, outcome: 'failed', endpoint: null, reason: 'x' } }, reported(0, 'succeeded'));
    expect(conclusionAfter(state, ID, targets)).toBeUndefined();
    expect(state.revision).toBe(2);
    expect(state.concluded).toMatchObject({ outcome: 'failed', at: '2026-01-01T00:00:01.000Z' });
  });
});

describe('send attempts', () => {
  const attempted = (target: number): RunEvent => ({ type: 'DeploymentTargetAttempted', data: { deploymentId: ID, target } });

  it('keeps the first and the latest attempt of each target, and how many', () => {
    const state = given(attempted(0), attempted(1), attempted(0));
    expect(state.targets.get(0)?.attempted).toEqual({ first: '2026-01-01T00:00:00.000Z', last: '2026-01-01T00:00:02.000Z', count: 2 });
    expect(state.targets.get(1)?.attempted).toEqual({ first: '2026-01-01T00:00:01.000Z', last: '2026-01-01T00:00:01.000Z', count: 1 });
    expect(state.targets.get(1)?.triggered).toBeNull();
  });
});

describe('deployment timeouts', () => {
  it('reads ISO 8601 durations and refuses malformed or zero ones', () => {
    expect(parseTimeout('PT30M')).toBe(30 * 60_000);
    expect(parseTimeout('P1DT2H')).toBe(26 * 3_600_000);
    expect(parseTimeout('PT0S')).toBeUndefined();
    expect(parseTimeout('30 minutes')).toBeUndefined();
    expect(parseTimeout('PT')).toBeUndefined();
  });
});
