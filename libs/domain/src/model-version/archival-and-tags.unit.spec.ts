import {
  alice,
  archival,
  archivedAfterServing,
  awaitingApproval,
  commandsOf,
  deciderSpec,
  deployingToProduction,
  evaluatedInStaging,
  NOW,
  registeredVersion,
  registry,
  servingEnded,
  servingInProduction,
  stageTransitioned,
  tagSet,
} from '@mrw/testing';
import { decideModelVersion } from './model-version.decider';
import { evolveModelVersion, initialModelVersionState } from './model-version.state';
import type { ModelVersionCommand } from './model-version.commands';

const spec = deciderSpec(
  { decide: decideModelVersion, evolve: evolveModelVersion, initialState: initialModelVersionState },
  { timeOf: (command) => command.metadata.now },
);
const versionCommand = commandsOf<ModelVersionCommand>();

const endServing = (archive: boolean, reason: 'superseded' | 'rolled-back' = 'superseded') =>
  versionCommand(
    'EndServing',
    { supersededBy: 8, deploymentId: 'dep-v8', reason, archive },
    { by: registry, at: NOW, id: `cmd-end-serving-${reason}-${archive}` },
  );

const archive = (servingVersion: number | null = 8) =>
  versionCommand(
    'ArchiveModelVersion',
    { rule: 'superseded-after-days', detail: 'v8 has served for 30 days', servingVersion },
    { by: archival, at: NOW, id: 'cmd-archive' },
  );

const archiveWithEvidence = (parameters: Record<string, unknown>, evidence: Record<string, unknown>) =>
  versionCommand(
    'ArchiveModelVersion',
    { rule: 'supersededAfter', detail: 'v8 has served for 30 days', parameters, evidence, servingVersion: 8 },
    { by: archival, at: NOW, id: 'cmd-archive-evidence' },
  );

const WINDOW = { from: '2025-03-04T09:00:00.000Z', to: '2025-03-04T10:00:00.000Z', for: 'PT1H', samples: 12, worst: 0.71, mean: 0.78 };
const breach = (servingVersion: number | null = 7, window = WINDOW, rollbackRequested = false) =>
  versionCommand(
    'RecordLiveMetricBreach',
    { metric: 'accuracy', direction: 'below', threshold: 0.85, window, rollbackRequested, servingVersion },
    { by: archival, at: NOW, id: `cmd-breach-${window.to}` },
  );
const breached = (window = WINDOW, rollbackRequested = false) => ({
  type: 'LiveMetricBreached' as const,
  data: { metric: 'accuracy', direction: 'below' as const, threshold: 0.85, window, rollbackRequested },
});

const setTag = (key: string, value: string) =>
  versionCommand('SetVersionTag', { key, value }, { by: alice, at: NOW, id: `cmd-tag-${key}` });
const removeTag = (key: string) => versionCommand('RemoveVersionTag', { key }, { by: alice, at: NOW, id: `cmd-untag-${key}` });
const describeVersion = (description: string) =>
  versionCommand('UpdateVersionDescription', { description }, { by: alice, at: NOW, id: 'cmd-describe' });

describe('rule 6: ending service when another version takes over', () => {
  it('records that the version stopped serving, and keeps it in Production as rollback target', () => {
    spec
      .given(...servingInProduction())
      .when(endServing(false))
      .then(servingEnded(8, 'dep-v8', 'superseded'));
  });

  it('archives the previous champion when asked to (policy archivePreviousOnSuccess)', () => {
    spec
      .given(...servingInProduction())
      .when(endServing(true))
      .then(
        servingEnded(8, 'dep-v8', 'superseded'),
        stageTransitioned('Production', 'Archived', { kind: 'archival', rule: 'superseded', detail: 'v8 took over serving' }),
      );
  });

  it('records a rollback away from this version, with the rule that fired', () => {
    spec
      .given(...servingInProduction())
      .when(endServing(true, 'rolled-back'))
      .then(
        servingEnded(8, 'dep-v8', 'rolled-back'),
        stageTransitioned('Production', 'Archived', { kind: 'archival', rule: 'rolled-back', detail: 'v8 took over serving' }),
      );
  });

  it('no longer serves but remains a rollback target', () => {
    spec
      .given(...servingInProduction())
      .when(endServing(false))
      .thenState((state) => {
        expect(state).toMatchObject({ stage: 'Production', serving: false, hasServed: true });
      });
  });

  it('does nothing for a version that does not serve', () => {
    spec
      .given(...servingInProduction(), servingEnded(8, 'dep-v8', 'superseded'))
      .when(endServing(false))
      .then();
  });

  it('does nothing when replayed after the version was archived', () => {
    spec.given(...archivedAfterServing()).when(endServing(true)).then();
  });
});

describe('archival by policy (ArchiveModelVersion)', () => {
  it('archives a version with the rule that fired', () => {
    spec
      .given(...evaluatedInStaging())
      .when(archive())
      .then(
        stageTransitioned('Staging', 'Archived', {
          kind: 'archival',
          rule: 'superseded-after-days',
          detail: 'v8 has served for 30 days',
        }),
      );
  });

  it('archives a former champion kept in Production once it no longer serves', () => {
    spec
      .given(...servingInProduction(), servingEnded(8, 'dep-v8', 'superseded'))
      .when(archive())
      .then(
        stageTransitioned('Production', 'Archived', {
          kind: 'archival',
          rule: 'superseded-after-days',
          detail: 'v8 has served for 30 days',
        }),
      );
  });

  it('rule 9: keeps metadata, evaluations, approvals and deployments of the archived version', () => {
    spec
      .given(...servingInProduction(), servingEnded(8, 'dep-v8', 'superseded'))
      .when(archive())
      .thenState((state) => {
        expect(state).toMatchObject({
          stage: 'Archived',
          stageSince: NOW,
          source: 's3://ml-artifacts/churn-classifier/run-4f2a/model.onnx',
          tags: { team: 'retention' },
          hasServed: true,
          evaluations: [{ id: 'eval-1', status: 'completed' }],
          approvals: [{ id: 'appr-1', status: 'approved' }],
          deployments: [{ id: 'dep-1', status: 'succeeded' }],
        });
      });
  });

  it('records the rule\'s parameters and its evidence with the transition (transparency)', () => {
    const evidence = { supersededBy: 8, supersededAt: '2025-02-02T10:00:00.000Z', dueAt: NOW };
    spec
      .given(...servingInProduction(), servingEnded(8, 'dep-v8', 'superseded'))
      .when(archiveWithEvidence({ supersededAfter: 'P30D' }, evidence))
      .then(
        stageTransitioned('Production', 'Archived', {
          kind: 'archival',
          rule: 'supersededAfter',
          detail: 'v8 has served for 30 days',
          parameters: { supersededAfter: 'P30D' },
          evidence,
        }),
      );
  });

  it('refuses an archived version: ALREADY_IN_STAGE', () => {
    spec.given(...archivedAfterServing()).when(archive()).thenFails('ALREADY_IN_STAGE');
  });

  it('refuses the version that serves: VERSION_IS_SERVING', () => {
    spec.given(...servingInProduction()).when(archive(7)).thenFails('VERSION_IS_SERVING');
  });

  it('refuses while an approval is pending: APPROVAL_PENDING', () => {
    const error = spec.given(...awaitingApproval()).when(archive()).thenFails('APPROVAL_PENDING');
    expect(error.details).toEqual({ approvalId: 'appr-1' });
  });

  it('refuses while a deployment is in flight: DEPLOYMENT_IN_PROGRESS', () => {
    spec.given(...deployingToProduction()).when(archive(5)).thenFails('DEPLOYMENT_IN_PROGRESS');
  });
});

describe('live-metric breach on the serving version (RecordLiveMetricBreach)', () => {
  it('records the breach with its window and whether a rollback was requested', () => {
    spec.given(...servingInProduction()).when(breach(7, WINDOW, true)).then(breached(WINDOW, true));
  });

  it('shows the breach on the version, which keeps serving in Production', () => {
    spec
      .given(...servingInProduction())
      .when(breach())
      .thenState((state) => {
        expect(state).toMatchObject({
          stage: 'Production',
          serving: true,
          liveMetricBreaches: [{ metric: 'accuracy', direction: 'below', threshold: 0.85, window: WINDOW, rollbackRequested: false, at: NOW }],
        });
      });
  });

  it('refuses a version that does not serve: NOT_SERVING', () => {
    spec.given(...servingInProduction(), servingEnded(8, 'dep-v8', 'superseded')).when(breach(8)).thenFails('NOT_SERVING');
    spec.given(...evaluatedInStaging()).when(breach(null)).thenFails('NOT_SERVING');
  });

  it('records the same window once: a repeated report appends nothing', () => {
    spec.given(...servingInProduction(), breached()).when(breach()).then();
  });

  it('records a later window of the same metric as a breach of its own', () => {
    const later = { ...WINDOW, from: '2025-03-04T10:00:00.000Z', to: '2025-03-04T11:00:00.000Z' };
    spec.given(...servingInProduction(), breached()).when(breach(7, later)).then(breached(later));
  });
});

describe('tags', () => {
  it('sets a new tag', () => {
    spec.given(...registeredVersion()).when(setTag('validated_by', 'carol')).then(tagSet('validated_by', 'carol'));
  });

  it('changes the value of an existing tag', () => {
    spec.given(...registeredVersion()).when(setTag('team', 'growth')).then(tagSet('team', 'growth'));
  });

  it('does nothing when the tag already has that value', () => {
    spec.given(...registeredVersion()).when(setTag('team', 'retention')).then();
  });

  it('removes a tag', () => {
    spec.given(...registeredVersion()).when(removeTag('team')).then({ type: 'ModelVersionTagRemoved', data: { key: 'team' } });
  });

  it('refuses to remove a tag the version does not have: TAG_NOT_FOUND', () => {
    spec.given(...registeredVersion()).when(removeTag('validated_by')).thenFails('TAG_NOT_FOUND');
  });

  it.each(['constructor', 'toString', 'hasOwnProperty'])(
    'knows that "%s" is not a tag just because every object has it: TAG_NOT_FOUND',
    (key) => {
      spec.given(...registeredVersion()).when(removeTag(key)).thenFails('TAG_NOT_FOUND');
    },
  );

  it('sets a tag named like an object property', () => {
    spec.given(...registeredVersion()).when(setTag('constructor', 'xgboost')).then(tagSet('constructor', 'xgboost'));
  });

  it('shows the tags on the version', () => {
    spec
      .given(...registeredVersion(), tagSet('validated_by', 'carol'))
      .when(removeTag('team'))
      .thenState((state) => {
        expect(state).toMatchObject({ tags: { validated_by: 'carol' } });
        if (state.status === 'registered') expect(Object.keys(state.tags)).toEqual(['validated_by']);
      });
  });

  it('refuses tags on a version that does not exist: VERSION_NOT_FOUND', () => {
    spec.given().when(setTag('team', 'retention')).thenFails('VERSION_NOT_FOUND');
  });
});

describe('description after registration', () => {
  it('replaces the description and shows it on the version', () => {
    spec
      .given(...registeredVersion())
      .when(describeVersion('gradient boosting on March features'))
      .thenState((state, events) => {
        expect(events).toEqual([{ type: 'ModelVersionDescriptionUpdated', data: { description: 'gradient boosting on March features' } }]);
        expect(state).toMatchObject({ description: 'gradient boosting on March features', stage: 'None' });
      });
  });

  it('records nothing when the description is unchanged', () => {
    spec.given(...registeredVersion()).when(describeVersion('gradient boosting on February features')).then();
  });

  it('refuses a description longer than at registration (5,000 characters): INVALID_DESCRIPTION', () => {
    spec.given(...registeredVersion()).when(describeVersion('x'.repeat(5001))).thenFails('INVALID_DESCRIPTION');
  });

  it('refuses a version that does not exist: VERSION_NOT_FOUND', () => {
    spec.given().when(describeVersion('anything')).thenFails('VERSION_NOT_FOUND');
  });
});
