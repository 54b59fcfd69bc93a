import type { RecordedEvent } from '@mrw/event-store';
import { refusalOf } from '../relay-decisions/command-refusals';
import { PeopleDirectory } from './people-directory';

const event = (stream: string, revision: number, type: string, data: unknown): RecordedEvent => ({
  streamName: stream,
  revision,
  position: BigInt(revision + 1),
  type,
  data,
  metadata: {
    eventId: `${stream}-${revision}`,
    occurredAt: '2026-11-30T10:00:00.000Z',
    actor: { kind: 'user', id: 'admin' },
    correlationId: 'c',
    causationId: null,
    schemaVersion: 1,
    prevHash: null,
    hash: 'h',
  },
});

const set = (subject: string, revision: number, contact: { email?: string; slackUserId?: string; teamsUserPrincipalName?: string }) =>
  event(`person-${subject}`, revision, 'PersonContactSet', { subject, email: null, slackUserId: null, teamsUserPrincipalName: null, ...contact });

describe('the people directory', () => {
  it('finds a person by subject, Slack user id and Teams UPN (without case); a removed person is gone', () => {
    const people = new PeopleDirectory();
    people.apply(set('rita', 0, { email: 'rita@example.com', slackUserId: 'U0RITA', teamsUserPrincipalName: 'Rita@Contoso.com' }));
    expect(people.bySlackUserId('U0RITA')?.subject).toBe('rita');
    expect(people.byTeamsUserPrincipalName('rita@contoso.com')?.subject).toBe('rita');
    expect(people.get('rita')).toMatchObject({ email: 'rita@example.com', updatedBy: { kind: 'user', id: 'admin' } });
    people.apply(event('person-rita', 1, 'PersonRemoved', { subject: 'rita' }));
    expect(people.get('rita')).toBeUndefined();
    expect(people.bySlackUserId('U0RITA')).toBeUndefined();
  });

  it('applies each event once and in order: a redelivered older event does not undo a newer one', () => {
    const people = new PeopleDirectory();
    const first = set('rita', 0, { slackUserId: 'U0OLD' });
    people.apply(first);
    people.apply(set('rita', 1, { slackUserId: 'U0NEW' }));
    people.apply(first);
    expect(people.get('rita')?.slackUserId).toBe('U0NEW');
    expect(people.revisionOf('rita')).toBe(1);
  });

  it('maps a Slack user bound to two people (two admins at once) to nobody', () => {
    const people = new PeopleDirectory();
    people.apply(set('rita', 0, { slackUserId: 'U0SHARED' }));
    people.apply(set('rolf', 0, { slackUserId: 'U0SHARED' }));
    expect(people.bySlackUserId('U0SHARED')).toBeUndefined();
  });
});

describe("the registry's refusal of a relayed command, read from its dead letter", () => {
  const letter = (reason: string, group = 'mrw-registry') =>
    event('deadLetter-mrw-registry', 0, 'MessageDeadLettered', { group, reason, headers: { 'command-id': 'cmd-1' } });

  it('names the rule that refused it', () => {
    expect(refusalOf(letter('PoisonMessageError: refused: APPROVER_IS_REQUESTER the person who requested the promotion cannot approve it'))).toEqual({
      commandId: 'cmd-1',
      refusal: { code: 'APPROVER_IS_REQUESTER', message: 'the person who requested the promotion cannot approve it' },
    });
    expect(refusalOf(letter('PoisonMessageError: approvals may not send X'))?.refusal).toEqual({ code: 'COMMAND_REFUSED', message: 'approvals may not send X' });
  });

  it("ignores other groups' dead letters", () => {
    expect(refusalOf(letter('refused: X y', 'mrw-approvals'))).toBeUndefined();
  });
});
