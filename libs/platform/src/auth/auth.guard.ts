import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Role } from '@mrw/contracts';
import { ProblemException } from '../problem/problem';
import { MODEL_SCOPE, PUBLIC_ROUTE, REQUIRED_ROLE, type ModelScopeSource } from './auth.decorators';
import { hasRole, inScope, type AuthPrincipal } from './principal';
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
    const request = context.switchToHttp().getRequest<ScopedRequest>();
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
    if (principal.models.length > 0) this.checkScope(principal, this.reflector.getAllAndOverride<ModelScopeSource>(MODEL_SCOPE, targets), request);
    request.principal = principal;
    return true;
  }

  private checkScope(principal: AuthPrincipal, source: ModelScopeSource | undefined, request: ScopedRequest): void {
    const scope = principal.models.join(', ');
    if (source === undefined) {
      throw new ProblemException('TOKEN_SCOPE_TOO_NARROW', `this token is limited to the models ${scope}; this route acts beyond single models and needs a token without a model scope`);
    }
    if (source === 'no-single-model') return;
    const value =
      'param' in source ? request.params?.[source.param] : 'body' in source ? request.body?.[source.body] : request.query?.[source.query];
    // A missing or malformed name is the validation's to refuse, with its own message.
    if (typeof value === 'string' && !inScope(principal, value)) {
      throw new ProblemException('MODEL_OUT_OF_SCOPE', `this token is limited to the models ${scope}; it cannot act on or see ${value}`, {
        model: value,
      });
    }
  }
}

interface ScopedRequest {
  headers: Record<string, string | undefined>;
  params?: Record<string, unknown>;
  body?: Record<string, unknown>;
  query?: Record<string, unknown>;
  principal?: AuthPrincipal;
}
