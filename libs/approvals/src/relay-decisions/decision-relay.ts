import { Injectable } from '@nestjs/common';
import type { CommandMessage } from '@mrw/contracts';
import { RegistryCommands } from '@mrw/platform';
import { ApprovalBook, type KnownApproval, type RecordedDecision } from '../follow-approvals/approval-book';
import { CommandRefusals, type CommandRefusal } from './command-refusals';

/** The channels the approvals service carries decisions from. */
export type RelayChannel = 'link' | 'slack' | 'teams';

/** A person's decision to carry to the registry. */
export interface DecisionToRelay {
  readonly approval: Pick<KnownApproval, 'id' | 'model' | 'version'>;
  /** The registry subject who decided: the recorded actor. */
  readonly subject: string;
  readonly decision: 'approve' | 'reject';
  readonly comment: string;
  readonly channel: RelayChannel;
  /** Derived from what makes the click unique (a link's nonce, Slack's trigger), so a repeat decides once. */
  readonly commandId: string;
  readonly correlationId: string;
}

/** What became of a relayed decision within the wait. */
export type RelayOutcome =
  | { readonly kind: 'recorded'; readonly decision: RecordedDecision }
  | { readonly kind: 'refused'; readonly refusal: CommandRefusal }
  /** Sent, but neither recorded nor refused yet (the registry is busy or away): it will be, once. */
  | { readonly kind: 'sent' };

/**
 * Carries a person's decision to the registry as the service command `GrantApproval` or
 * `RejectApproval` with `onBehalfOf`, and waits a moment for its outcome: the registry's
 * recorded decision (its event id is the command id) or its refusal (a dead letter naming the
 * command). A command already recorded is not sent again.
 */
@Injectable()
export class DecisionRelay {
  constructor(
    private readonly commands: RegistryCommands,
    private readonly book: ApprovalBook,
    private readonly refusals: CommandRefusals,
  ) {}

  /** The outcome already known for a command id, if any: a repeated click learns it without sending. */
  known(commandId: string): RelayOutcome | undefined {
    const decision = this.book.decisionRecordedBy(commandId);
    return decision ? { kind: 'recorded', decision } : undefined;
  }

  async relay(decision: DecisionToRelay, waitMs: number): Promise<RelayOutcome> {
    const known = this.known(decision.commandId);
    if (known) return known;
    const command: CommandMessage = {
      commandId: decision.commandId,
      type: decision.decision === 'approve' ? 'GrantApproval' : 'RejectApproval',
      model: decision.approval.model,
      version: decision.approval.version,
      data: { approvalId: decision.approval.id, comment: decision.comment, onBehalfOf: decision.subject, channel: decision.channel },
      correlationId: decision.correlationId,
      causationId: null,
    };
    let settle: (outcome: RelayOutcome) => void = () => undefined;
    const outcome = new Promise<RelayOutcome>((resolve) => (settle = resolve));
    // Listening before sending: in embedded mode the registry has decided by the time send resolves.
    const stopDecisions = this.book.onDecision((d) => d.eventId === decision.commandId && settle({ kind: 'recorded', decision: d }));
    const stopRefusals = this.refusals.onRefusal((id, refusal) => id === decision.commandId && settle({ kind: 'refused', refusal }));
    const timer = setTimeout(() => settle({ kind: 'sent' }), waitMs);
    try {
      await this.commands.send('approvals', command);
      return await outcome;
    } finally {
      clearTimeout(timer);
      stopDecisions();
      stopRefusals();
    }
  }
}
