import { Injectable } from '@nestjs/common';
import { CONSUMER_GROUPS, HEADERS } from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';
import type { DeadLetter } from '@mrw/messaging';

/** Why the registry refused a command: its rule's code (`APPROVER_IS_REQUESTER`) and message. */
export interface CommandRefusal {
  readonly code: string;
  readonly message: string;
}

/** How many refusals are remembered for a late waiter; older ones are forgotten first. */
const REMEMBERED = 1_000;

/**
 * Reads what the registry said when it refused one of this service's commands: a refused
 * command is dead-lettered by the registry's command consumer (`deadLetter-mrw-registry`, in the
 * log in both modes), its reason `refused: <CODE> <message>` for a lifecycle rule.
 */
export const refusalOf = (event: RecordedEvent): { commandId: string; refusal: CommandRefusal } | undefined => {
  const letter = event.data as Partial<DeadLetter> | null;
  const commandId = letter?.headers?.[HEADERS.commandId];
  if (letter?.group !== CONSUMER_GROUPS.registry || typeof commandId !== 'string' || typeof letter.reason !== 'string') return undefined;
  const reason = letter.reason.replace(/^PoisonMessageError: /, '');
  const rule = /^refused: ([A-Z][A-Z0-9_]*) ([\s\S]*)$/.exec(reason);
  return { commandId, refusal: rule ? { code: rule[1] as string, message: rule[2] as string } : { code: 'COMMAND_REFUSED', message: reason } };
};

/** The registry's refusals of commands, by command id, as they appear in the log. */
@Injectable()
export class CommandRefusals {
  private readonly refusals = new Map<string, CommandRefusal>();
  private readonly listeners = new Set<(commandId: string, refusal: CommandRefusal) => void>();

  /** Takes a `MessageDeadLettered` event of the registry's command consumer; other events change nothing. */
  apply(event: RecordedEvent): void {
    const found = refusalOf(event);
    if (!found) return;
    this.refusals.delete(found.commandId);
    this.refusals.set(found.commandId, found.refusal);
    if (this.refusals.size > REMEMBERED) this.refusals.delete(this.refusals.keys().next().value as string);
    for (const listener of this.listeners) listener(found.commandId, found.refusal);
  }

  get(commandId: string): CommandRefusal | undefined {
    return this.refusals.get(commandId);
  }

  /** Calls `listener` with every refusal seen from now on; returns the unsubscribe. */
  onRefusal(listener: (commandId: string, refusal: CommandRefusal) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
