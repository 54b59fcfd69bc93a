import { emptyModelFacts, evolveModelFacts, foldModelFacts, versionFacts, type ModelFacts, type VersionFacts } from './archival-facts';
import { VersionTable } from './version-table';
import { day, ModelHistory, sec } from './testing/model-history';

const factsOf = (history: ModelHistory): ModelFacts => foldModelFacts(history.model, history.events);
const v = (facts: ModelFacts, version: number): VersionFacts => {
  const found = versionFacts(facts, version);
  if (!found) throw new Error(`no v${version}`);
  return found;
};

describe('archival facts (the archival service’s fold of one model’s registry events)', () => {
  it('knows nothing of a model it has not heard of', () => {
    expect(emptyModelFacts('churn')).toEqual({
      model: 'churn',
      policy: {},
      servingVersion: null,
      servingSince: null,
      rollbackTarget: null,
      versions: VersionTable.empty(),
    });
  });

  it('registers a version in None, since its registration', () => {
    const facts = factsOf(new ModelHistory().at(sec(5)).register(1));
    expect(v(facts, 1)).toEqual({
      version: 1,
      stage: 'None',
      stageSince: sec(5),
      registeredAt: sec(5),
      listedSince: sec(5),
      everServed: false,
      serving: false,
      supersededAt: null,
      supersededBy: null,
      pendingApprovals: [],
      deploymentsInFlight: [],
    });
    expect([...facts.versions.keys()]).toEqual([1]);
  });

  it('follows the stage and since when it is in it', () => {
    const facts = factsOf(new ModelHistory().register(1).at(sec(10)).stage(1, 'Staging'));
    expect(v(facts, 1)).toMatchObject({ stage: 'Staging', stageSince: sec(10), registeredAt: sec(0) });
  });

  it('keeps the versions by number, whatever order their streams start in', () => {
    const facts = factsOf(new ModelHistory().register(2).register(1).register(3));
    expect([...facts.versions.keys()]).toEqual([1, 2, 3]);
  });

  it('takes the policy from ModelPolicySet, the latest one winning', () => {
    const facts = factsOf(new ModelHistory().policy({ archival: { keepAtMost: 3 } }).policy({ archival: { staleAfter: 'P1D' } }));
    expect(facts.policy).toEqual({ archival: { staleAfter: 'P1D' } });
  });

  it('knows who serves since when, and that the first champion supersedes nobody', () => {
    const facts = factsOf(new ModelHistory().register(1).at(sec(20)).promote(1));
    expect(facts).toMatchObject({ servingVersion: 1, servingSince: sec(20), rollbackTarget: null });
    expect(v(facts, 1)).toMatchObject({ stage: 'Production', everServed: true, serving: true, supersededAt: null, deploymentsInFlight: [] });
  });

  it('marks the former champion superseded when a newer version takes over, which becomes the rollback target', () => {
    const facts = factsOf(new ModelHistory().register(1).promote(1).register(2).at(day(3)).promote(2));
    expect(facts).toMatchObject({ servingVersion: 2, servingSince: day(3), rollbackTarget: 1 });
    expect(v(facts, 1)).toMatchObject({ stage: 'Production', serving: false, everServed: true, supersededAt: day(3), supersededBy: 2 });
    expect(v(facts, 2)).toMatchObject({ serving: true, supersededAt: null });
  });

  it('does not take a redeployment of the serving version for a supersession', () => {
    const history = new ModelHistory().register(1).promote(1).register(2).at(day(1)).promote(2);
    history.at(day(2)).succeed(2, history.deploy(2));
    const facts = factsOf(history);
    expect(facts).toMatchObject({ servingVersion: 2, servingSince: day(1), rollbackTarget: 1 });
    expect(v(facts, 2).supersededAt).toBeNull();
    expect(v(facts, 1).supersededAt).toBe(day(1));
  });

  it('after a rollback: the old champion serves again (no longer superseded), the rolled-back one is superseded, archived and the rollback target', () => {
    const facts = factsOf(new ModelHistory().register(1).promote(1).register(2).at(day(1)).promote(2).at(day(2)).rollbackTo(1));
    expect(facts).toMatchObject({ servingVersion: 1, servingSince: day(2), rollbackTarget: 2 });
    expect(v(facts, 1)).toMatchObject({ serving: true, supersededAt: null, supersededBy: null });
    expect(v(facts, 2)).toMatchObject({ stage: 'Archived', serving: false, supersededAt: day(2), supersededBy: 1 });
  });

  it('counts approvals pending until quorum, rejection, expiry or a closing evidence change; a re-opened one stays pending', () => {
    const history = new ModelHistory().register(1).stage(1, 'Staging');
    history.requestApproval(1, 'a1').requestApproval(1, 'a2').requestApproval(1, 'a3').requestApproval(1, 'a4');
    expect(v(factsOf(history), 1).pendingApprovals).toEqual(['a1', 'a2', 'a3', 'a4']);
    history.approvalClosed(1, 'a1', 'ApprovalQuorumReached').approvalClosed(1, 'a2', 'ApprovalRejected').evidenceChanged(1, 'a4', 'reopened');
    expect(v(factsOf(history), 1).pendingApprovals).toEqual(['a3', 'a4']);
    history.approvalClosed(1, 'a3', 'ApprovalExpired').evidenceChanged(1, 'a4', 'closed');
    expect(v(factsOf(history), 1).pendingApprovals).toEqual([]);
  });

  it('leaves out after-the-fact reviews of emergency rollbacks: the registry does not wait on them either', () => {
    const facts = factsOf(new ModelHistory().register(1).requestApproval(1, 'review', true));
    expect(v(facts, 1).pendingApprovals).toEqual([]);
  });

  it('counts a deployment in flight until it succeeds or fails', () => {
    const history = new ModelHistory().register(1).promote(1).register(2).stage(2, 'Staging');
    const deploymentId = history.deploy(2);
    expect(v(factsOf(history), 2)).toMatchObject({ stage: 'Production', deploymentsInFlight: [deploymentId], serving: false });
    history.fail(2, deploymentId, 'Staging');
    expect(v(factsOf(history), 2)).toMatchObject({ stage: 'Staging', deploymentsInFlight: [], serving: false, everServed: false });
    const second = history.deploy(2);
    history.succeed(2, second);
    expect(v(factsOf(history), 2)).toMatchObject({ deploymentsInFlight: [], serving: true, everServed: true });
    expect(v(factsOf(history), 1).serving).toBe(false);
  });

  it('counts a version restored from Archived among the listed ones from its restoration', () => {
    const facts = factsOf(new ModelHistory().register(1).at(day(1)).archived(1, 'staleAfter').at(day(2)).stage(1, 'Staging'));
    expect(v(facts, 1)).toMatchObject({ stage: 'Staging', stageSince: day(2), registeredAt: sec(0), listedSince: day(2) });
  });

  it('ignores other models, event types it does not need, and versions it never saw registered', () => {
    const ours = factsOf(new ModelHistory().register(1));
    const other = new ModelHistory('fraud').register(1).promote(1).policy({ archival: { keepAtMost: 1 } });
    const facts = other.events.reduce(evolveModelFacts, ours);
    expect(facts).toEqual(ours);
    const unknownVersion = { type: 'StageTransitioned', data: { fromStage: 'None', toStage: 'Staging' }, streamName: 'modelVersion-churn@9', occurredAt: sec(1) };
    const tagged = { type: 'ModelVersionTagSet', data: { key: 'k', value: 'v' }, streamName: 'modelVersion-churn@1', occurredAt: sec(1) };
    expect(evolveModelFacts(evolveModelFacts(ours, unknownVersion), tagged)).toEqual(ours);
  });

  it('does not register a version twice (a redelivered event)', () => {
    const history = new ModelHistory().register(1);
    const registration = history.events[1];
    history.at(sec(5)).stage(1, 'Staging');
    const facts = evolveModelFacts(factsOf(history), { ...registration!, occurredAt: sec(9) });
    expect(v(facts, 1)).toMatchObject({ stage: 'Staging', registeredAt: sec(0) });
  });
});
