import type { Actor, Role } from '@mrw/contracts';

/** The authenticated caller: the actor written into events, and what it may do. */
export interface AuthPrincipal {
  readonly tokenId: string;
  readonly actor: Actor;
  readonly roles: readonly Role[];
  /** The only models this caller may act on or see, whatever its roles; empty means every model. */
  readonly models: readonly string[];
}

/** Whether a principal's scope includes a model. */
export const inScope = (principal: Pick<AuthPrincipal, 'models'>, model: string): boolean =>
  principal.models.length === 0 || principal.models.includes(model);

/** The models a list must be limited to for this principal, or undefined for every model. */
export const scopeFilter = (principal: Pick<AuthPrincipal, 'models'>): readonly string[] | undefined =>
  principal.models.length === 0 ? undefined : principal.models;

/** Roles that include others: admin may do anything; every role may read. */
export const hasRole = (principal: Pick<AuthPrincipal, 'roles'>, role: Role): boolean =>
  principal.roles.includes('admin') ||
  principal.roles.includes(role) ||
  (role === 'viewer' && principal.roles.length > 0);
