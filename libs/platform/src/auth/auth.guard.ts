import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Role } from '@mrw/contracts';
import { logHeadOf } from '../persistence/request-log-head';
import { ProblemException } from '../problem/problem';
import { MODEL_SCOPE, PUBLIC_ROUTE, REQUIRED_ROLE, type ModelScopeSource } from './auth.decorators';
import { hasRole, inScope, type AuthPrincipal } from './principal';
import { TokenDirectory } from './token-directory';
import { TokenFeed } from './token-feed';

/**
 * Whether another process writes tokens to the log this one checks them from (PostgreSQL
 * replicas, a reader beside the suite): the token feed is then caught up before every check.
 * PlatformModule decides it from the configuration.
 */
export const TOKENS_CAUGHT_UP_FIRST = Symbol('TOKENS_CAUGHT_UP_FIRST');

/** How long a request with an unknown token waits for this process to read the log's newest tokens. */
const CATCH_UP_MS = 2_000;

/**
 * Bearer-token authentication and role checks for every route not marked @Public(). A token
 * this process does not know may have been issued a moment ago by another process sharing the
 * log (a registry replica behind the same load balancer): before refusing it, the token feed
 * catches up with the log once. Where another process writes the log too (replicas on
 * PostgreSQL, a reader beside the suite), it catches up before every check, so a revocation
 * through one process holds at once on all of them.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenDirectory,
    private readonly feed: TokenFeed,
    @Inject(TOKENS_CAUGHT_UP_FIRST) private readonly catchUpFirst: boolean,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<ScopedRequest>();
    const header = request.headers['authorization'] ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      throw new ProblemException('UNAUTHENTICATED', 'send Authorization: Bearer <token>; ask an admin for a token');
    }
    const secret = match[1] as string;
    // A token this process knows is checked at once (no promise, no turn of the event loop).
    const known = this.catchUpFirst ? undefined : this.tokens.authenticate(secret);
    if (known) return this.admit(known, targets, request);
    return this.afterCatchingUp(secret, logHeadOf(request)).then((principal) => this.admit(principal, targets, request));
  }

  private admit(principal: AuthPrincipal | undefined, targets: Parameters<Reflector['getAllAndOverride']>[1], request: ScopedRequest): boolean {
    if (!principal) throw new ProblemException('UNAUTHENTICATED', 'the token is unknown or revoked');
    const role = this.reflector.getAllAndOverride<Role | undefined>(REQUIRED_ROLE, targets) ?? 'viewer';
    if (!hasRole(principal, role)) {
      throw new ProblemException('FORBIDDEN', `this needs the ${role} role; the token has ${principal.roles.join(', ') || 'none'}`);
    }
    if (principal.models.length > 0) this.checkScope(principal, this.reflector.getAllAndOverride<ModelScopeSource>(MODEL_SCOPE, targets), request);
    request.principal = principal;
    return true;
  }

  /** `upTo`: the log head this request's read-your-writes check read already, if one did. */
  private async afterCatchingUp(secret: string, upTo: bigint | undefined): Promise<AuthPrincipal | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, CATCH_UP_MS)));
    // An unreachable store answers no sooner: the token stays unknown, and the request is refused.
    await Promise.race([this.feed.caughtUp(upTo).catch(() => undefined), gaveUp]);
    clearTimeout(timer);
    return this.tokens.authenticate(secret);
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
