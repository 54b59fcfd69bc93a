import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Role } from '@mrw/contracts';
import { ProblemException } from '../problem/problem';
import { PUBLIC_ROUTE, REQUIRED_ROLE } from './auth.decorators';
import { hasRole, type AuthPrincipal } from './principal';
import { TokenDirectory } from './token-directory';

/** Bearer-token authentication and role checks for every route not marked @Public(). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenDirectory,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; principal?: AuthPrincipal }>();
    const header = request.headers['authorization'] ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      throw new ProblemException('UNAUTHENTICATED', 'send Authorization: Bearer <token>; ask an admin for a token');
    }
    const principal = this.tokens.authenticate(match[1] as string);
    if (!principal) throw new ProblemException('UNAUTHENTICATED', 'the token is unknown or revoked');
    const role = this.reflector.getAllAndOverride<Role | undefined>(REQUIRED_ROLE, targets) ?? 'viewer';
    if (!hasRole(principal, role)) {
      throw new ProblemException('FORBIDDEN', `this needs the ${role} role; the token has ${principal.roles.join(', ') || 'none'}`);
    }
    request.principal = principal;
    return true;
  }
}
