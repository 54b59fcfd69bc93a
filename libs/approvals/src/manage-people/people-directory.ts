import { Injectable } from '@nestjs/common';
import type { Actor } from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';
import type { PersonContact, PersonEvent } from './people.events';

/** A person in the directory: a registry subject and how to reach and recognise them. */
export interface Person extends PersonContact {
  readonly subject: string;
  readonly updatedAt: string;
  readonly updatedBy: Actor;
}

/**
 * The people directory, folded from the `person-*` streams: who a notification goes to, and
 * which registry identity a Slack click or a Teams action belongs to. Every approvals process
 * keeps one, fed by the log; the process that writes applies its own appends at once. Events
 * are applied in stream order and at most once (a stream's revision only moves forward).
 */
@Injectable()
export class PeopleDirectory {
  private readonly people = new Map<string, Person>();
  private readonly revisions = new Map<string, number>();

  apply(event: RecordedEvent): void {
    if (!event.streamName.startsWith('person-')) return;
    const personEvent = event as unknown as PersonEvent;
    const subject = personEvent.data.subject;
    if ((this.revisions.get(subject) ?? -1) >= event.revision) return;
    this.revisions.set(subject, event.revision);
    switch (personEvent.type) {
      case 'PersonContactSet': {
        const { email, slackUserId, teamsUserPrincipalName } = personEvent.data;
        this.people.set(subject, { subject, email, slackUserId, teamsUserPrincipalName, updatedAt: event.metadata.occurredAt, updatedBy: event.metadata.actor });
        return;
      }
      case 'PersonRemoved':
        this.people.delete(subject);
        return;
    }
  }

  /** The stream revision this directory has folded for a subject (-1: none yet), to append after. */
  revisionOf(subject: string): number {
    return this.revisions.get(subject) ?? -1;
  }

  get(subject: string): Person | undefined {
    return this.people.get(subject);
  }

  /** Everyone, by subject. */
  list(): Person[] {
    return [...this.people.values()].sort((a, b) => a.subject.localeCompare(b.subject));
  }

  /**
   * The person a Slack user is. Undefined when nobody, or more than one person, has that id
   * (two admins binding one id at once): an ambiguous click decides nothing.
   */
  bySlackUserId(slackUserId: string): Person | undefined {
    return only(this.list().filter((p) => p.slackUserId === slackUserId));
  }

  /** The person with this Teams user principal name (compared without case, as Entra does); undefined when none or ambiguous. */
  byTeamsUserPrincipalName(upn: string): Person | undefined {
    const wanted = upn.toLowerCase();
    return only(this.list().filter((p) => p.teamsUserPrincipalName?.toLowerCase() === wanted));
  }
}

const only = (people: readonly Person[]): Person | undefined => (people.length === 1 ? people[0] : undefined);
