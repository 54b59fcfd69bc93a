import { Inject, Injectable } from '@nestjs/common';
import { personStream, type Actor } from '@mrw/contracts';
import { EVENT_STORE, WrongExpectedRevisionError, type EventStore } from '@mrw/event-store';
import { CLOCK, newEventMetadata, ProblemException, type Clock } from '@mrw/platform';
import { PeopleDirectory, type Person } from './people-directory';
import type { PersonContact, PersonEvent } from './people.events';

const ATTEMPTS = 5;

const sameContact = (a: PersonContact, b: PersonContact): boolean =>
  a.email === b.email && a.slackUserId === b.slackUserId && a.teamsUserPrincipalName === b.teamsUserPrincipalName;

/**
 * Writes the people directory: `PersonContactSet` and `PersonRemoved` in `person-<subject>`,
 * appended with the stream's expected revision (a concurrent change is decided again on fresh
 * state). A chat identity (Slack user id, Teams UPN) binds a click to a registry identity, so
 * it may belong to one person only.
 */
@Injectable()
export class PeopleHandler {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly directory: PeopleDirectory,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Sets a person's contact details (replacing them); `created` says whether the person is new. */
  async set(subject: string, contact: PersonContact, actor: Actor): Promise<{ person: Person; created: boolean }> {
    for (let attempt = 1; ; attempt += 1) {
      await this.catchUp(subject);
      this.assertUnclaimed(subject, contact);
      const current = this.directory.get(subject);
      if (current && sameContact(current, contact)) return { person: current, created: false };
      if (await this.append(subject, { type: 'PersonContactSet', data: { subject, ...contact } }, actor, attempt)) {
        return { person: this.directory.get(subject) as Person, created: current === undefined };
      }
    }
  }

  /** Removes a person from the directory; their links and chat clicks decide nothing from then on. */
  async remove(subject: string, actor: Actor): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      await this.catchUp(subject);
      if (!this.directory.get(subject)) throw new ProblemException('PERSON_NOT_FOUND', `${subject} is not in the people directory`);
      if (await this.append(subject, { type: 'PersonRemoved', data: { subject } }, actor, attempt)) return;
    }
  }

  /** Applies what this process has not folded yet of one person's stream (another process's writes). */
  private async catchUp(subject: string): Promise<void> {
    const events = await this.store.readStream(personStream(subject), { fromRevision: this.directory.revisionOf(subject) + 1 });
    for (const event of events) this.directory.apply(event);
  }

  private assertUnclaimed(subject: string, contact: PersonContact): void {
    const holders = [
      ['slackUserId', contact.slackUserId ? this.directory.bySlackUserId(contact.slackUserId) : undefined],
      ['teamsUserPrincipalName', contact.teamsUserPrincipalName ? this.directory.byTeamsUserPrincipalName(contact.teamsUserPrincipalName) : undefined],
    ] as const;
    for (const [field, holder] of holders) {
      if (holder && holder.subject !== subject) {
        throw new ProblemException('CONTACT_IN_USE', `this ${field} belongs to ${holder.subject}; a chat identity binds clicks to one person only`, {
          errors: [{ field, message: `already used by ${holder.subject}` }],
        });
      }
    }
  }

  /** True when appended (and folded); false when the stream moved meanwhile and the caller should decide again. */
  private async append(subject: string, event: PersonEvent, actor: Actor, attempt: number): Promise<boolean> {
    const revision = this.directory.revisionOf(subject);
    try {
      await this.store.appendToStream(personStream(subject), [{ type: event.type, data: event.data, metadata: newEventMetadata(this.clock, actor) }], {
        expectedRevision: revision < 0 ? 'no_stream' : revision,
      });
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
      if (attempt >= ATTEMPTS) throw new ProblemException('CONCURRENCY_CONFLICT', `${subject}'s directory entry kept changing; retry the request`);
      return false;
    }
    await this.catchUp(subject);
    return true;
  }
}
