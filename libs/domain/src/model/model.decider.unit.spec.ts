import type { ModelEvent } from '@mrw/contracts';
import { alice, bob, commandsOf, deciderSpec, givenAt, NOW, POLICY, registry, stamped } from '@mrw/testing';
import {
  decideModel,
  evolveModel,
  foldModel,
  initialModelState,
  previousServingVersion,
  servingVersionOf,
  type ModelCommand,
} from './model.decider';

const spec = deciderSpec({ decide: decideModel, evolve: evolveModel, initialState: initialModelState });
const command = commandsOf<ModelCommand>();

const MODEL = 'churn-classifier';

const created: ModelEvent = {
  type: 'ModelCreated',
  data: { model: MODEL, description: 'predicts churn within 30 days', tags: { team: 'retention' } },
};
const reserved = (version: number, commandId: string): ModelEvent => ({
  type: 'ModelVersionNumberReserved',
  data: { model: MODEL, version, commandId },
});
const aliasSet = (alias: string, version: number, previousVersion: number | null): ModelEvent => ({
  type: 'ModelAliasSet',
  data: { model: MODEL, alias, version, previousVersion },
});
const servingChanged = (version: number, previousVersion: number | null, deploymentId: string): ModelEvent => ({
  type: 'ModelServingVersionChanged',
  data: { model: MODEL, version, previousVersion, deploymentId },
});

const reserve = (id: string) => command('ReserveVersionNumber', {}, { by: alice, at: NOW, id });
const setAlias = (alias: string, version: number, versionExists = true) =>
  command('SetAlias', { alias, version, versionExists }, { by: bob, at: NOW, id: `cmd-alias-${alias}` });
const removeAlias = (alias: string) => command('RemoveAlias', { alias }, { by: bob, at: NOW, id: `cmd-unalias-${alias}` });
const describe_ = (description: string) =>
  command('UpdateModelDescription', { description }, { by: alice, at: NOW, id: 'cmd-describe' });
const setTag = (key: string, value: string) => command('SetModelTag', { key, value }, { by: alice, at: NOW, id: `cmd-tag-${key}` });
const removeTag = (key: string) => command('RemoveModelTag', { key }, { by: alice, at: NOW, id: `cmd-untag-${key}` });
const recordServing = (version: number, deploymentId: string) =>
  command('RecordServingVersion', { version, deploymentId }, { by: registry, at: NOW, id: `cmd-serving-${deploymentId}` });

describe('model: creation', () => {
  it('creates a model with its description and tags', () => {
    spec
      .given()
      .when(
        command(
          'CreateModel',
          { name: MODEL, description: 'predicts churn within 30 days', tags: { team: 'retention' } },
          { by: alice, at: NOW, id: 'cmd-create' },
        ),
      )
      .then(created);
  });

  it('refuses to create it twice: MODEL_ALREADY_EXISTS', () => {
    spec
      .given(created)
      .when(command('CreateModel', { name: MODEL, description: '', tags: {} }, { by: bob, at: NOW, id: 'cmd-create-again' }))
      .thenFails('MODEL_ALREADY_EXISTS');
  });

  it.each<[string, ModelCommand]>([
    ['SetModelPolicy', command('SetModelPolicy', { policy: POLICY }, { by: alice, at: NOW, id: 'c1' })],
    ['ReserveVersionNumber', reserve('c2')],
    ['SetAlias', setAlias('champion', 5)],
    ['RemoveAlias', removeAlias('champion')],
    ['RecordServingVersion', recordServing(5, 'dep-5')],
    ['UpdateModelDescription', describe_('anything')],
    ['SetModelTag', setTag('team', 'growth')],
    ['RemoveModelTag', removeTag('team')],
  ])('refuses %s on a model that does not exist: MODEL_NOT_FOUND', (_name, cmd) => {
    spec.given().when(cmd).thenFails('MODEL_NOT_FOUND');
  });

  it('starts with no policy, no versions, no aliases and nothing serving', () => {
    expect(spec.given(created).state()).toEqual({
      status: 'created',
      name: MODEL,
      description: 'predicts churn within 30 days',
      tags: { team: 'retention' },
      policy: {},
      createdAt: givenAt(0),
      updatedAt: givenAt(0),
      lastVersion: 0,
      aliases: {},
      servingHistory: [],
    });
  });
});

describe('model: policy', () => {
  it('records the policy and shows it on the model', () => {
    spec
      .given(created)
      .when(command('SetModelPolicy', { policy: POLICY }, { by: alice, at: NOW, id: 'cmd-policy' }))
      .thenState((state, events) => {
        expect(events).toEqual([{ type: 'ModelPolicySet', data: { model: MODEL, policy: POLICY } }]);
        expect(state).toMatchObject({ policy: POLICY });
      });
  });
});

describe('model: version numbers', () => {
  it('reserves 1 for the first version', () => {
    spec.given(created).when(reserve('cmd-register-a')).then(reserved(1, 'cmd-register-a'));
  });

  it('reserves consecutive numbers', () => {
    spec
      .given(created, reserved(1, 'cmd-register-a'), reserved(2, 'cmd-register-b'))
      .when(reserve('cmd-register-c'))
      .then(reserved(3, 'cmd-register-c'));
  });
});

describe('model: aliases', () => {
  it('points a new alias at a version', () => {
    spec.given(created).when(setAlias('champion', 5)).then(aliasSet('champion', 5, null));
  });

  it('records the previous version when an alias moves', () => {
    spec
      .given(created, aliasSet('champion', 5, null))
      .when(setAlias('champion', 7))
      .thenState((state, events) => {
        expect(events).toEqual([aliasSet('champion', 7, 5)]);
        expect(state).toMatchObject({ aliases: { champion: 7 } });
      });
  });

  it('does nothing when the alias already points at that version', () => {
    spec.given(created, aliasSet('champion', 5, null)).when(setAlias('champion', 5)).then();
  });

  it.each(['champion', 'challenger-b', 'shadow_2', 'v2-canary', 'vNext'])('accepts the alias %s', (alias) => {
    spec.given(created).when(setAlias(alias, 5)).then(aliasSet(alias, 5, null));
  });

  it.each([
    ['latest', 'reserved'],
    ['Latest', 'reserved, whatever the case'],
    ['v3', 'reserved: it reads as a version number'],
    ['V12', 'reserved, whatever the case'],
    ['3rd', 'starts with a digit'],
    ['', 'empty'],
    ['blue green', 'contains a space'],
    ['a'.repeat(65), 'longer than 64 characters'],
  ])('refuses the alias "%s" (%s): INVALID_ALIAS', (alias) => {
    spec.given(created).when(setAlias(alias, 5)).thenFails('INVALID_ALIAS');
  });

  it('refuses an alias for a version that does not exist: VERSION_NOT_FOUND', () => {
    spec.given(created).when(setAlias('champion', 42, false)).thenFails('VERSION_NOT_FOUND');
  });

  it('gives an alias named like an object property no previous version', () => {
    spec.given(created).when(setAlias('constructor', 5)).then(aliasSet('constructor', 5, null));
  });

  it('removes an alias, recording the version it pointed at', () => {
    spec
      .given(created, aliasSet('champion', 5, null), aliasSet('challenger', 7, null))
      .when(removeAlias('champion'))
      .thenState((state, events) => {
        expect(events).toEqual([{ type: 'ModelAliasRemoved', data: { model: MODEL, alias: 'champion', version: 5 } }]);
        expect(state).toMatchObject({ aliases: { challenger: 7 } });
        if (state.status === 'created') expect(Object.keys(state.aliases)).toEqual(['challenger']);
      });
  });

  it('refuses to remove an alias the model does not have: ALIAS_NOT_FOUND', () => {
    spec.given(created, aliasSet('champion', 5, null)).when(removeAlias('challenger')).thenFails('ALIAS_NOT_FOUND');
  });

  it('knows that "constructor" is not an alias just because every object has it: ALIAS_NOT_FOUND', () => {
    spec.given(created).when(removeAlias('constructor')).thenFails('ALIAS_NOT_FOUND');
  });
});

describe('model: a serving alias (policy.servingAlias) moves only through the governed path', () => {
  const governed: ModelEvent = { type: 'ModelPolicySet', data: { model: MODEL, policy: { servingAlias: 'champion' } } };
  const setPolicy = (policy: Record<string, unknown>) => command('SetModelPolicy', { policy }, { by: alice, at: NOW, id: 'cmd-policy' });

  it('follows the version that starts serving, a promotion or a rollback alike', () => {
    spec.given(created, governed).when(recordServing(5, 'dep-5')).then(servingChanged(5, null, 'dep-5'), aliasSet('champion', 5, null));
    spec
      .given(created, governed, servingChanged(5, null, 'dep-5'), aliasSet('champion', 5, null), servingChanged(7, 5, 'dep-7'), aliasSet('champion', 7, 5))
      .when(recordServing(5, 'dep-5-rollback'))
      .thenState((state, events) => {
        expect(events).toEqual([servingChanged(5, 7, 'dep-5-rollback'), aliasSet('champion', 5, 7)]);
        expect(state).toMatchObject({ aliases: { champion: 5 } });
      });
  });

  it('leaves aliases alone when the policy names none', () => {
    spec.given(created, aliasSet('champion', 3, null)).when(recordServing(5, 'dep-5')).then(servingChanged(5, null, 'dep-5'));
  });

  it('refuses to set or remove it by hand: ALIAS_GOVERNED, and other aliases stay free', () => {
    spec.given(created, governed).when(setAlias('champion', 5)).thenFails('ALIAS_GOVERNED');
    spec.given(created, governed, servingChanged(5, null, 'dep-5'), aliasSet('champion', 5, null)).when(removeAlias('champion')).thenFails('ALIAS_GOVERNED');
    spec.given(created, governed).when(setAlias('challenger', 5)).then(aliasSet('challenger', 5, null));
  });

  it('takes the alias over when the policy is set: it moves to the serving version', () => {
    spec
      .given(created, servingChanged(5, null, 'dep-5'), aliasSet('champion', 7, null))
      .when(setPolicy({ servingAlias: 'champion' }))
      .then({ type: 'ModelPolicySet', data: { model: MODEL, policy: { servingAlias: 'champion' } } }, aliasSet('champion', 5, 7));
  });

  it('removes a hand-set alias when the policy takes it over and nothing serves yet', () => {
    spec
      .given(created, aliasSet('champion', 7, null))
      .when(setPolicy({ servingAlias: 'champion' }))
      .then(
        { type: 'ModelPolicySet', data: { model: MODEL, policy: { servingAlias: 'champion' } } },
        { type: 'ModelAliasRemoved', data: { model: MODEL, alias: 'champion', version: 7 } },
      );
  });

  it('releases the alias when the policy stops naming it: it stays where it was and may be set by hand again', () => {
    spec
      .given(created, governed, servingChanged(5, null, 'dep-5'), aliasSet('champion', 5, null), { type: 'ModelPolicySet', data: { model: MODEL, policy: {} } })
      .when(setAlias('champion', 3))
      .then(aliasSet('champion', 3, 5));
  });
});

describe('model: serving history ("what was in Production on date X")', () => {
  it('records the first serving version with no predecessor', () => {
    spec.given(created).when(recordServing(5, 'dep-5')).then(servingChanged(5, null, 'dep-5'));
  });

  it('records the predecessor when another version takes over', () => {
    spec.given(created, servingChanged(5, null, 'dep-5')).when(recordServing(7, 'dep-7')).then(servingChanged(7, 5, 'dep-7'));
  });

  it('records nothing when the same deployment is reported again', () => {
    spec.given(created, servingChanged(5, null, 'dep-5')).when(recordServing(5, 'dep-5')).then();
  });

  it('keeps when each version started serving', () => {
    const state = spec.given(created, servingChanged(5, null, 'dep-5'), servingChanged(7, 5, 'dep-7')).state();
    expect(state).toMatchObject({
      servingHistory: [
        { version: 5, since: givenAt(1), deploymentId: 'dep-5' },
        { version: 7, since: givenAt(2), deploymentId: 'dep-7' },
      ],
    });
  });

  it('answers which version serves now and which served before it (the default rollback target)', () => {
    const fold = (...events: ModelEvent[]) => foldModel(stamped(created, ...events));
    expect(servingVersionOf(initialModelState())).toBeNull();
    expect(previousServingVersion(initialModelState())).toBeNull();
    expect(servingVersionOf(fold())).toBeNull();
    expect(previousServingVersion(fold(servingChanged(5, null, 'dep-5')))).toBeNull();

    const promoted = fold(servingChanged(5, null, 'dep-5'), servingChanged(7, 5, 'dep-7'));
    expect(servingVersionOf(promoted)).toBe(7);
    expect(previousServingVersion(promoted)).toBe(5);

    const rolledBack = fold(servingChanged(5, null, 'dep-5'), servingChanged(7, 5, 'dep-7'), servingChanged(5, 7, 'dep-5b'));
    expect(servingVersionOf(rolledBack)).toBe(5);
    expect(previousServingVersion(rolledBack)).toBe(7);
  });

  it('skips redeployments of the serving version when looking for the previous one', () => {
    const state = foldModel(
      stamped(created, servingChanged(5, null, 'dep-5'), servingChanged(7, 5, 'dep-7'), servingChanged(7, 7, 'dep-7-redeploy')),
    );
    expect(previousServingVersion(state)).toBe(5);
  });

  it('ignores model events before the model was created', () => {
    expect(evolveModel(initialModelState(), { ...servingChanged(5, null, 'dep-5'), at: givenAt(0) })).toEqual({ status: 'absent' });
  });
});

describe('model: description and tags after creation', () => {
  it('replaces the description and shows it on the model', () => {
    spec
      .given(created)
      .when(describe_('predicts churn within 60 days'))
      .thenState((state, events) => {
        expect(events).toEqual([{ type: 'ModelDescriptionUpdated', data: { model: MODEL, description: 'predicts churn within 60 days' } }]);
        expect(state).toMatchObject({ description: 'predicts churn within 60 days', tags: { team: 'retention' } });
      });
  });

  it('records nothing when the description is unchanged', () => {
    spec.given(created).when(describe_('predicts churn within 30 days')).then();
  });

  it('refuses a description longer than at creation (5,000 characters): INVALID_DESCRIPTION', () => {
    spec.given(created).when(describe_('x'.repeat(5001))).thenFails('INVALID_DESCRIPTION');
  });

  it('adds a tag and changes the value of an existing one', () => {
    spec
      .given(created, { type: 'ModelTagSet', data: { model: MODEL, key: 'owner', value: 'ana' } })
      .when(setTag('team', 'growth'))
      .thenState((state, events) => {
        expect(events).toEqual([{ type: 'ModelTagSet', data: { model: MODEL, key: 'team', value: 'growth' } }]);
        expect(state).toMatchObject({ tags: { team: 'growth', owner: 'ana' } });
      });
  });

  it('records nothing when the tag already has that value', () => {
    spec.given(created).when(setTag('team', 'retention')).then();
  });

  it('sets a tag named like an object property', () => {
    spec.given(created).when(setTag('constructor', '')).then({ type: 'ModelTagSet', data: { model: MODEL, key: 'constructor', value: '' } });
  });

  it.each([
    ['', 'x', 'an empty key'],
    ['has space', 'x', 'a space in the key'],
    ['k'.repeat(251), 'x', 'a key longer than 250 characters'],
    ['team', 'v'.repeat(5001), 'a value longer than 5,000 characters'],
  ])('refuses the tag "%s" (%#: %s): INVALID_TAG', (key, value) => {
    spec.given(created).when(setTag(key, value)).thenFails('INVALID_TAG');
  });

  it('removes a tag', () => {
    spec
      .given(created)
      .when(removeTag('team'))
      .thenState((state, events) => {
        expect(events).toEqual([{ type: 'ModelTagRemoved', data: { model: MODEL, key: 'team' } }]);
        expect(state).toMatchObject({ tags: {} });
      });
  });

  it('refuses to remove a tag the model does not have: TAG_NOT_FOUND', () => {
    spec.given(created).when(removeTag('owner')).thenFails('TAG_NOT_FOUND');
    spec.given(created).when(removeTag('constructor')).thenFails('TAG_NOT_FOUND');
  });
});
