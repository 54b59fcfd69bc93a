import {
  deriveId,
  HEADERS,
  isUuid,
  MODEL_NAME_PATTERN,
  SERVICE_COMMANDS,
  SERVICE_NAMES,
  type CommandMessage,
  type ServiceName,
} from '@mrw/contracts';
import { PoisonMessageError, type IncomingMessage } from '@mrw/messaging';
import type { AuthPrincipal } from '@mrw/platform';

type FieldKind = 'string' | 'number' | 'object' | 'nullable-string' | 'nullable-object';

/**
 * The fields each service command must carry in `data`, and their kinds. Other fields are not
 * refused, so an older sender still gets through (a `verdict` on a result is ignored: the
 * registry judges the measurements itself).
 */
const DATA_SHAPES: Readonly<Record<string, Readonly<Record<string, FieldKind>>>> = {
  RecordEvaluationProgress: { evaluationId: 'string', rowsDone: 'number', rowsTotal: 'number' },
  RecordEvaluationResult: { evaluationId: 'string', set: 'object', metrics: 'object', comparison: 'nullable-object' },
  RecordEvaluationFailure: { evaluationId: 'string', reason: 'string', code: 'string' },
  ExpireApproval: { approvalId: 'string' },
  RecordNotificationOutcome: { approvalId: 'string', noticeId: 'string', notice: 'string', channel: 'string', target: 'string', outcome: 'string' },
  // A person's decision relayed by the approvals service (a link, a chat button): see relayed-decision.ts.
  GrantApproval: { approvalId: 'string', onBehalfOf: 'string', channel: 'string', comment: 'nullable-string' },
  RejectApproval: { approvalId: 'string', onBehalfOf: 'string', channel: 'string', comment: 'nullable-string' },
  ArchiveModelVersion: { rule: 'string', detail: 'string' },
  // The window's own fields (from, to, for, samples, worst, mean) are checked by the handler.
  RecordLiveMetricBreach: { metric: 'string', direction: 'string', threshold: 'number', window: 'object' },
  RecordDeploymentStarted: { deploymentId: 'string', environment: 'string', target: 'string' },
  RecordDeploymentSucceeded: { deploymentId: 'string', endpoint: 'nullable-string' },
  RecordDeploymentFailed: { deploymentId: 'string', reason: 'string' },
  RecordShadowDeployment: { evaluationId: 'string', environment: 'string', outcome: 'string' },
};

const fits = (value: unknown, kind: FieldKind): boolean => {
  switch (kind) {
    case 'string':
      return typeof value === 'string' && value.length > 0 && value.length <= 10_000;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'nullable-string':
      return value === null || typeof value === 'string';
    case 'nullable-object':
      return value === null || (typeof value === 'object' && !Array.isArray(value));
  }
};

/** Parses a command message; a PoisonMessageError says exactly what is wrong with it. */
export const parseCommandMessage = (message: IncomingMessage): CommandMessage => {
  let body: Partial<CommandMessage>;
  try {
    body = JSON.parse(message.value) as Partial<CommandMessage>;
  } catch (error) {
    throw new PoisonMessageError(`command is not JSON: ${(error as Error).message}`);
  }
  if (typeof body !== 'object' || body === null) throw new PoisonMessageError('command must be a JSON object');
  const { commandId, type, model, version, data } = body;
  if (typeof type !== 'string' || !(type in DATA_SHAPES)) {
    throw new PoisonMessageError(`unknown command type ${String(type)}; known: ${Object.keys(DATA_SHAPES).join(', ')}`);
  }
  if (typeof commandId !== 'string' || commandId.length === 0 || commandId.length > 200) {
    throw new PoisonMessageError('commandId must be a non-empty string (a UUID)');
  }
  if (typeof model !== 'string' || !MODEL_NAME_PATTERN.test(model)) throw new PoisonMessageError('model must be a model name');
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new PoisonMessageError('version must be a positive integer');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new PoisonMessageError('data must be an object');
  for (const [field, kind] of Object.entries(DATA_SHAPES[type] ?? {})) {
    if (!fits((data as Record<string, unknown>)[field], kind)) {
      throw new PoisonMessageError(`${type}: data.${field} must be ${kind}`);
    }
  }
  return {
    // Event ids must be UUIDs: other ids are mapped deterministically, so replays still match.
    commandId: isUuid(commandId) ? commandId : deriveId(commandId, 'service-command'),
    type,
    model,
    version,
    data: data as Record<string, unknown>,
    correlationId: typeof body.correlationId === 'string' && isUuid(body.correlationId) ? body.correlationId : commandId,
    causationId: typeof body.causationId === 'string' ? body.causationId : null,
  };
};

/**
 * The service that sent a command and the models its token is limited to (empty: every
 * model): the in-process publisher in embedded mode, or over Kafka the holder of the service
 * token that signed the message (`authorization: MRW-HMAC-SHA256 token=…, signature=…`).
 */
export const serviceOf = (
  message: IncomingMessage,
  verify: (authorization: string, value: string) => AuthPrincipal | undefined,
): { readonly name: ServiceName; readonly models: readonly string[] } => {
  const fromProcess = message.publishedBy;
  let name: string | undefined = fromProcess;
  let models: readonly string[] = [];
  if (!name) {
    const authorization = message.headers[HEADERS.authorization] ?? '';
    if (/^Bearer\s/i.test(authorization)) {
      throw new PoisonMessageError('refused: the service token itself was sent, and a topic must never carry it; sign the command with it (MRW-HMAC-SHA256) instead');
    }
    const principal = verify(authorization, message.value);
    if (!principal) throw new PoisonMessageError('unauthenticated: the command is not signed by a live service token');
    if (principal.actor.kind !== 'service' || !principal.roles.includes('service')) {
      throw new PoisonMessageError(`${principal.actor.id} is not a service identity`);
    }
    name = principal.actor.id;
    models = principal.models;
  }
  if (!(SERVICE_NAMES as readonly string[]).includes(name)) throw new PoisonMessageError(`${name} is not one of the suite's services`);
  return { name: name as ServiceName, models };
};

export const mayIssue = (service: ServiceName, type: string): boolean => SERVICE_COMMANDS[service].includes(type);
