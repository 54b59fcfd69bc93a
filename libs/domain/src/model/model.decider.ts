import type { CommandMetadata, ModelEvent, ModelPolicy } from '@mrw/contracts';
import { invalidDescription, invalidTag, type DescriptiveFieldError } from '../shared/descriptive-fields';
import { assertNever, fail, ok, type Result } from '../shared/result';
import type { Timed } from '../shared/timed';

type Command<Type extends string, Data> = { readonly type: Type; readonly data: Data; readonly metadata: CommandMetadata };

export type CreateModel = Command<'CreateModel', { name: string; description: string; tags: Record<string, string> }>;
export type SetModelPolicy = Command<'SetModelPolicy', { policy: ModelPolicy }>;
export type ReserveVersionNumber = Command<'ReserveVersionNumber', Record<string, never>>;
export type SetAlias = Command<'SetAlias', { alias: string; version: number; versionExists: boolean }>;
export type RemoveAlias = Command<'RemoveAlias', { alias: string }>;
export type RecordServingVersion = Command<'RecordServingVersion', { version: number; deploymentId: string }>;
export type UpdateModelDescription = Command<'UpdateModelDescription', { description: string }>;
export type SetModelTag = Command<'SetModelTag', { key: string; value: string }>;
export type RemoveModelTag = Command<'RemoveModelTag', { key: string }>;

export type ModelCommand =
  | CreateModel
  | SetModelPolicy
  | ReserveVersionNumber
  | SetAlias
  | RemoveAlias
  | RecordServingVersion
  | UpdateModelDescription
  | SetModelTag
  | RemoveModelTag;

export type ModelErrorCode =
  | 'MODEL_ALREADY_EXISTS'
  | 'MODEL_NOT_FOUND'
  | 'INVALID_ALIAS'
  | 'ALIAS_NOT_FOUND'
  | 'ALIAS_GOVERNED'
  | 'VERSION_NOT_FOUND'
  | 'TAG_NOT_FOUND'
  | DescriptiveFieldError;

export interface ServingPeriod {
  readonly version: number;
  readonly since: string;
  readonly deploymentId: string;
}

export interface CreatedModel {
  readonly status: 'created';
  readonly name: string;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly policy: ModelPolicy;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly lastVersion: number;
  readonly aliases: Readonly<Record<string, number>>;
  /** Newest last; the last entry is the version serving now. */
  readonly servingHistory: readonly ServingPeriod[];
}

export type ModelState = { readonly status: 'absent' } | CreatedModel;

export const initialModelState = (): ModelState => ({ status: 'absent' });

/** Aliases name versions (`champion`, `challenger`); `latest` and `v<digits>` are reserved, as in MLflow. */
export const ALIAS_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const isReservedAlias = (alias: string): boolean => alias.toLowerCase() === 'latest' || /^v\d+$/i.test(alias);

/** Why a name cannot be an alias, or null when it can. */
export const aliasProblem = (alias: string): string | null =>
  ALIAS_PATTERN.test(alias) && !isReservedAlias(alias) ? null : "letters, digits, _ and -, starting with a letter; 'latest' and 'v<n>' are reserved";

/**
 * The policy's serving alias brought up to date: it names the serving version, or nothing when
 * no version serves (a governed alias never names a version that did not reach serving).
 */
const followServing = (state: CreatedModel, alias: string | undefined, serving: number | null): ModelEvent[] => {
  if (alias === undefined) return [];
  const current = Object.hasOwn(state.aliases, alias) ? (state.aliases[alias] ?? null) : null;
  if (current === serving) return [];
  if (serving === null) return [{ type: 'ModelAliasRemoved', data: { model: state.name, alias, version: current as number } }];
  return [{ type: 'ModelAliasSet', data: { model: state.name, alias, version: serving, previousVersion: current } }];
};

const governedAlias = (state: CreatedModel, alias: string) =>
  fail(
    'ALIAS_GOVERNED',
    `alias ${alias} names the serving version of ${state.name} (policy.servingAlias): it moves when a version starts serving — request Production (approval, deployment) or a rollback instead`,
    { alias },
  );

export const servingVersionOf = (state: ModelState): number | null =>
  state.status === 'created' ? (state.servingHistory[state.servingHistory.length - 1]?.version ?? null) : null;

/** The last version that served before the current one: the default rollback target. */
export const previousServingVersion = (state: ModelState): number | null => {
  if (state.status !== 'created') return null;
  const current = servingVersionOf(state);
  for (let i = state.servingHistory.length - 1; i >= 0; i -= 1) {
    const period = state.servingHistory[i] as ServingPeriod;
    if (period.version !== current) return period.version;
  }
  return null;
};

export const evolveModel = (state: ModelState, event: Timed<ModelEvent>): ModelState => {
  if (event.type === 'ModelCreated') {
    return {
      status: 'created',
      name: event.data.model,
      description: event.data.description,
      tags: event.data.tags,
      policy: {},
      createdAt: event.at,
      updatedAt: event.at,
      lastVersion: 0,
      aliases: {},
      servingHistory: [],
    };
  }
  if (state.status !== 'created') return state;
  const s: CreatedModel = { ...state, updatedAt: event.at };
  switch (event.type) {
    case 'ModelPolicySet':
      return { ...s, policy: event.data.policy };
    case 'ModelVersionNumberReserved':
      return { ...s, lastVersion: Math.max(s.lastVersion, event.data.version) };
    case 'ModelAliasSet':
      return { ...s, aliases: { ...s.aliases, [event.data.alias]: event.data.version } };
    case 'ModelAliasRemoved': {
      const { [event.data.alias]: _removed, ...aliases } = s.aliases;
      return { ...s, aliases };
    }
    case 'ModelServingVersionChanged':
      return {
        ...s,
        servingHistory: [
          ...s.servingHistory,
          { version: event.data.version, since: event.at, deploymentId: event.data.deploymentId },
        ],
      };
    case 'ModelDescriptionUpdated':
      return { ...s, description: event.data.description };
    case 'ModelTagSet':
      return { ...s, tags: { ...s.tags, [event.data.key]: event.data.value } };
    case 'ModelTagRemoved': {
      const { [event.data.key]: _removed, ...tags } = s.tags;
      return { ...s, tags };
    }
    default:
      return assertNever(event);
  }
};

export const foldModel = (events: ReadonlyArray<Timed<ModelEvent>>): ModelState =>
  events.reduce(evolveModel, initialModelState());

/** Decides a model-level command: the events to append to `model-<name>`, or a typed refusal. */
export const decideModel = (command: ModelCommand, state: ModelState): Result<ModelEvent[], ModelErrorCode> => {
  if (command.type === 'CreateModel') {
    if (state.status === 'created') return fail('MODEL_ALREADY_EXISTS', `model ${command.data.name} already exists`);
    const { name, description, tags } = command.data;
    return ok([{ type: 'ModelCreated', data: { model: name, description, tags } }]);
  }
  if (state.status !== 'created') return fail('MODEL_NOT_FOUND', 'this model does not exist');
  const model = state.name;
  switch (command.type) {
    case 'SetModelPolicy': {
      const { policy } = command.data;
      return ok([{ type: 'ModelPolicySet', data: { model, policy } }, ...followServing(state, policy.servingAlias, servingVersionOf(state))]);
    }
    case 'ReserveVersionNumber': {
      // A replayed reservation is recognised by its event id (the command id) before deciding.
      return ok([
        {
          type: 'ModelVersionNumberReserved',
          data: { model, version: state.lastVersion + 1, commandId: command.metadata.commandId },
        },
      ]);
    }
    case 'SetAlias': {
      const { alias, version, versionExists } = command.data;
      const invalid = aliasProblem(alias);
      if (invalid) return fail('INVALID_ALIAS', `alias ${alias} is invalid: ${invalid}`);
      if (alias === state.policy.servingAlias) return governedAlias(state, alias);
      if (!versionExists) return fail('VERSION_NOT_FOUND', `model ${model} has no version ${version}`);
      const previousVersion = Object.hasOwn(state.aliases, alias) ? (state.aliases[alias] ?? null) : null;
      if (previousVersion === version) return ok([]);
      return ok([{ type: 'ModelAliasSet', data: { model, alias, version, previousVersion } }]);
    }
    case 'RemoveAlias': {
      const version = Object.hasOwn(state.aliases, command.data.alias) ? state.aliases[command.data.alias] : undefined;
      if (version === undefined) return fail('ALIAS_NOT_FOUND', `model ${model} has no alias ${command.data.alias}`);
      if (command.data.alias === state.policy.servingAlias) return governedAlias(state, command.data.alias);
      return ok([{ type: 'ModelAliasRemoved', data: { model, alias: command.data.alias, version } }]);
    }
    case 'RecordServingVersion': {
      const { version, deploymentId } = command.data;
      const current = state.servingHistory[state.servingHistory.length - 1];
      if (current?.deploymentId === deploymentId) return ok([]);
      return ok([
        {
          type: 'ModelServingVersionChanged',
          data: { model, version, previousVersion: current?.version ?? null, deploymentId },
        },
        ...followServing(state, state.policy.servingAlias, version),
      ]);
    }
    case 'UpdateModelDescription': {
      const { description } = command.data;
      const invalid = invalidDescription(description);
      if (invalid) return invalid;
      return ok(description === state.description ? [] : [{ type: 'ModelDescriptionUpdated', data: { model, description } }]);
    }
    case 'SetModelTag': {
      const { key, value } = command.data;
      const invalid = invalidTag(key, value);
      if (invalid) return invalid;
      const unchanged = Object.hasOwn(state.tags, key) && state.tags[key] === value;
      return ok(unchanged ? [] : [{ type: 'ModelTagSet', data: { model, key, value } }]);
    }
    case 'RemoveModelTag': {
      const { key } = command.data;
      if (!Object.hasOwn(state.tags, key)) return fail('TAG_NOT_FOUND', `model ${model} has no tag ${key}`);
      return ok([{ type: 'ModelTagRemoved', data: { model, key } }]);
    }
    default:
      return assertNever(command);
  }
};
