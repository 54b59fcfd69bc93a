import { SUBJECT_PATTERN, type Actor, type CommandMessage, type DecisionChannel, type ServiceName } from '@mrw/contracts';
import type { Principal } from '@mrw/domain';
import { PoisonMessageError } from '@mrw/messaging';
import type { DirectoryToken } from '@mrw/platform';

/** The one service that carries people's decisions to the registry. */
export const DECISION_RELAY: ServiceName = 'approvals';

/** Channels a relayed decision may come through; `api` and `console` reach the registry directly. */
export const RELAY_CHANNELS: readonly DecisionChannel[] = ['link', 'slack', 'teams'];

/** The longest comment a decision may carry, as on the API. */
export const MAX_DECISION_COMMENT = 5000;

/** A decision a person made elsewhere, as the relaying service states it. */
export interface RelayedDecision {
  readonly approvalId: string;
  readonly comment: string;
  /** The person who decided: the actor of the recorded event. */
  readonly person: Actor;
  readonly channel: DecisionChannel;
  /** The service that carried it, recorded as `relayedBy`. */
  readonly relayedBy: Actor;
}

/**
 * Reads a relayed `GrantApproval`/`RejectApproval`: only the approvals service may speak for a
 * person, and only through a relaying channel. Anything else is poison (dead-lettered with the
 * reason), never a decision.
 */
export const relayedDecisionOf = (service: ServiceName, command: CommandMessage): RelayedDecision => {
  if (service !== DECISION_RELAY) throw new PoisonMessageError(`${service} may not relay a person's decision; only ${DECISION_RELAY} may`);
  const { approvalId, comment, onBehalfOf, channel } = command.data;
  if (typeof onBehalfOf !== 'string' || !SUBJECT_PATTERN.test(onBehalfOf)) {
    throw new PoisonMessageError(`${command.type}: data.onBehalfOf must be a subject (1-128 letters, digits or . _ @ + -)`);
  }
  if (typeof channel !== 'string' || !(RELAY_CHANNELS as readonly string[]).includes(channel)) {
    throw new PoisonMessageError(`${command.type}: data.channel must be one of ${RELAY_CHANNELS.join(', ')}`);
  }
  if (comment !== null && (typeof comment !== 'string' || comment.length > MAX_DECISION_COMMENT)) {
    throw new PoisonMessageError(`${command.type}: data.comment must be at most ${MAX_DECISION_COMMENT} characters`);
  }
  return {
    approvalId: String(approvalId),
    comment: comment ?? '',
    person: { kind: 'user', id: onBehalfOf },
    channel: channel as DecisionChannel,
    relayedBy: { kind: 'service', id: service },
  };
};

/**
 * What a person may do on a model, from the tokens the registry knows them by: the union of the
 * roles of their live user tokens whose scope includes the model. Tokens scoped to other models
 * do not count, so a reviewer token for `churn` plus an unscoped viewer token never make a
 * reviewer of `fraud`. Undefined when no such token is live: a person the registry no longer
 * knows (revoked, never issued) decides nothing, whatever a link or a chat says.
 */
export const principalOnModel = (tokens: readonly DirectoryToken[], model: string): Principal | undefined => {
  const applicable = tokens.filter((t) => t.kind === 'user' && t.revokedAt === null && (t.models.length === 0 || t.models.includes(model)));
  if (applicable.length === 0) return undefined;
  return { roles: [...new Set(applicable.flatMap((t) => t.roles))], models: [model] };
};
