import type { Actor, Role } from '@mrw/contracts';

/** The authenticated caller: the actor written into events, and what it may do. */
export interface AuthPrincipal {
  readonly tokenId: string;
  readonly actor: Actor;
  readonly roles: readonly Role[];
  /** Reviewer scope; empty means every model. */
  readonly models: readonly string[];
}

/** Roles that include others: admin may do anything; every role may read. */
export const hasRole = (principal: Pick<AuthPrincipal, 'roles'>, role: Role): boolean =>
  principal.roles.includes('admin') ||
  principal.roles.includes(role) ||
  (role === 'viewer' && principal.roles.length > 0);
