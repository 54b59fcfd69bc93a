import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { decisionLinkStream, SCHEMA_VERSION, type Actor } from '@mrw/contracts';
import { EVENT_STORE, WrongExpectedRevisionError, type EventStore, type RecordedEvent } from '@mrw/event-store';
import { CLOCK, ProblemException, type Clock } from '@mrw/platform';
import type { DecisionLinkClaims } from './decision-links';

/** The approvals service's record that a link was used, in `decisionLink-<nonce>` (private to the service). */
export const DECISION_LINK_USED = 'DecisionLinkUsed';
/** The use did not reach the registry (the bus was away): the link may be used again. */
export const DECISION_LINK_RELEASED = 'DecisionLinkReleased';

const SERVICE: Actor = { kind: 'service', id: 'approvals' };

/**
 * Makes decision links single-use, durably and across processes: the first use appends
 * `DecisionLinkUsed` to the link's own stream expecting no stream (or the revision of its
 * release), so of two posts at once exactly one wins, and a restart forgets nothing.
 */
@Injectable()
export class DecisionLinkUses {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Refuses a link already spent (409 `LINK_ALREADY_USED`), without spending it. */
  async assertUnused(claims: DecisionLinkClaims): Promise<void> {
    const [last] = (await this.store.readStream(decisionLinkStream(claims.non))).slice(-1);
    if (last && last.type !== DECISION_LINK_RELEASED) throw alreadyUsed(last);
  }

  /** Spends the link, or refuses with 409 `LINK_ALREADY_USED` saying when it was used. */
  async claim(claims: DecisionLinkClaims, correlationId: string): Promise<void> {
    const stream = decisionLinkStream(claims.non);
    const history = await this.store.readStream(stream);
    const last = history[history.length - 1];
    if (last && last.type !== DECISION_LINK_RELEASED) throw alreadyUsed(last);
    const revision = last ? last.revision : -1;
    try {
      await this.store.appendToStream(
        stream,
        [
          {
            type: DECISION_LINK_USED,
            data: { nonce: claims.non, approvalId: claims.aid, subject: claims.sub, decision: claims.dec },
            // A fresh id: a derived one would make a concurrent second claim an idempotent replay, not a conflict.
            metadata: this.metadata(randomUUID(), correlationId),
          },
        ],
        { expectedRevision: revision < 0 ? 'no_stream' : revision },
      );
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
      const [winner] = (await this.store.readStream(stream)).slice(-1);
      throw alreadyUsed(winner);
    }
  }

  /** Gives the link back after its decision could not be sent, so the reviewer can try again. */
  async release(claims: DecisionLinkClaims, reason: string, correlationId: string): Promise<void> {
    const stream = decisionLinkStream(claims.non);
    const [last] = (await this.store.readStream(stream)).slice(-1);
    if (!last || last.type !== DECISION_LINK_USED) return;
    await this.store.appendToStream(
      stream,
      [{ type: DECISION_LINK_RELEASED, data: { nonce: claims.non, reason: reason.slice(0, 500) }, metadata: this.metadata(randomUUID(), correlationId) }],
      { expectedRevision: last.revision },
    );
  }

  private metadata(eventId: string, correlationId: string) {
    return {
      eventId,
      occurredAt: this.clock.now().toISOString(),
      actor: SERVICE,
      correlationId,
      causationId: null,
      schemaVersion: SCHEMA_VERSION,
    };
  }
}

const alreadyUsed = (use: RecordedEvent | undefined): ProblemException =>
  new ProblemException(
    'LINK_ALREADY_USED',
    `This link was already used${use ? ` at ${use.metadata.occurredAt}` : ''}; a link decides once. The approval's page in the registry shows the outcome.`,
    {},
    409,
  );
