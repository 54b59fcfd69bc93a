import { Inject, Injectable } from '@nestjs/common';
import { SCHEMA_VERSION, type CommandMetadata } from '@mrw/contracts';
import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import { DEAD_LETTER_REDRIVEN, DEAD_LETTERED, deadLetterStream, MESSAGE_BUS, type DeadLetter, type MessageBus } from '@mrw/messaging';
import { KeyedMutex, ProblemException } from '@mrw/platform';
import { failureKind } from '@mrw/resilience';
import { RegistryProjector } from '../projections/registry-projector';
import { DeadLetterQueries } from './dead-letters.queries';

/**
 * Sends a dead letter back to where it failed, once its cause is fixed, and records who did
 * it. The message goes out first and the record second: a crash between them leaves the
 * letter open, and a second redrive is recognised by the handlers (by event or command id).
 */
@Injectable()
export class RedriveDeadLetter {
  private readonly locks = new KeyedMutex();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    private readonly letters: DeadLetterQueries,
    private readonly projector: RegistryProjector,
  ) {}

  async redrive(letterId: string, metadata: CommandMetadata): Promise<void> {
    await this.locks.run(letterId, async () => {
      const summary = this.letters.get(letterId);
      if (!summary) throw new ProblemException('DEAD_LETTER_NOT_FOUND', `no dead letter ${letterId}`);
      if (summary.redrivenAt) {
        throw new ProblemException('DEAD_LETTER_ALREADY_REDRIVEN', `dead letter ${letterId} was redriven at ${summary.redrivenAt} by ${summary.redrivenBy}; if it failed again, it is a new dead letter`);
      }
      if (summary.truncated) {
        throw new ProblemException('DEAD_LETTER_TRUNCATED', `dead letter ${letterId} was ${summary.size} bytes and is kept cut: it cannot be sent again`);
      }
      const stream = deadLetterStream(summary.group);
      const letter = (await this.store.readStream(stream)).find((e) => e.type === DEAD_LETTERED && (e.data as DeadLetter).letterId === letterId)
        ?.data as DeadLetter | undefined;
      if (!letter) throw new ProblemException('DEAD_LETTER_NOT_FOUND', `no dead letter ${letterId} in ${stream}`);
      try {
        await this.bus.redrive(letter);
      } catch (error) {
        if (failureKind(error) === 'transient') {
          throw new ProblemException('BUS_UNAVAILABLE', `the message bus did not take the message (${(error as Error).message}); try again`, {}, 503);
        }
        throw new ProblemException('REDRIVE_FAILED', `dead letter ${letterId} could not be sent again: ${(error as Error).message}`);
      }
      const recorded = await this.store.appendToStream(
        stream,
        [
          {
            type: DEAD_LETTER_REDRIVEN,
            data: { letterId, group: letter.group, topic: letter.topic },
            metadata: {
              eventId: metadata.commandId,
              occurredAt: metadata.now,
              actor: metadata.actor,
              correlationId: metadata.correlationId,
              causationId: letterId,
              schemaVersion: SCHEMA_VERSION,
            },
          },
        ],
        { expectedRevision: 'any' },
      );
      await this.projector.waitFor(recorded.position);
    });
  }
}
