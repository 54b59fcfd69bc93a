/** How the suite reaches a person, and how it recognises them in a chat tool. */
export interface PersonContact {
  readonly email: string | null;
  /** Slack's user id (`U…`/`W…`): a Slack click by this user is this person's decision. */
  readonly slackUserId: string | null;
  /** The person's Microsoft Entra user principal name, as Teams knows them. */
  readonly teamsUserPrincipalName: string | null;
}

/**
 * The people directory's events, in the approvals service's own `person-<subject>` streams
 * (private: never published, indexed for the audit trail or served but to admins).
 */
export type PersonContactSet = { readonly type: 'PersonContactSet'; readonly data: { readonly subject: string } & PersonContact };
export type PersonRemoved = { readonly type: 'PersonRemoved'; readonly data: { readonly subject: string } };
export type PersonEvent = PersonContactSet | PersonRemoved;

export const PERSON_EVENT_TYPES: readonly PersonEvent['type'][] = ['PersonContactSet', 'PersonRemoved'];
