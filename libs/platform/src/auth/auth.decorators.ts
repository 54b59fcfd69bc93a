import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Role } from '@mrw/contracts';
import type { AuthPrincipal } from './principal';

export const REQUIRED_ROLE = 'mrw:required-role';
export const PUBLIC_ROUTE = 'mrw:public';
export const MODEL_SCOPE = 'mrw:model-scope';

/**
 * Where a route finds the model it acts on, so that a token limited to some models
 * (`models: [...]`) is held to them whatever its roles: a path parameter, a body field or a
 * query parameter; or `'no-single-model'` for a route that is about no single model and filters what
 * it returns to the caller's scope itself (`scopeFilter`). A route that declares none is
 * closed to scoped tokens: it acts beyond models (tokens, evaluation sets).
 */
export type ModelScopeSource = { readonly param: string } | { readonly body: string } | { readonly query: string } | 'no-single-model';

export const ModelScope = (source: ModelScopeSource): MethodDecorator & ClassDecorator => SetMetadata(MODEL_SCOPE, source);

/** The least role a route needs (admin always passes). */
export const RequireRole = (role: Role): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_ROLE, role);

/** Health, readiness, metrics and docs: no token needed. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);

/** The authenticated caller of this request. */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, context: ExecutionContext): AuthPrincipal =>
    context.switchToHttp().getRequest<{ principal: AuthPrincipal }>().principal,
);
