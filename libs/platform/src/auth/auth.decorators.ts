import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Role } from '@mrw/contracts';
import type { AuthPrincipal } from './principal';

export const REQUIRED_ROLE = 'mrw:required-role';
export const PUBLIC_ROUTE = 'mrw:public';

/** The least role a route needs (admin always passes). */
export const RequireRole = (role: Role): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_ROLE, role);

/** Health, readiness, metrics and docs: no token needed. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);

/** The authenticated caller of this request. */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, context: ExecutionContext): AuthPrincipal =>
    context.switchToHttp().getRequest<{ principal: AuthPrincipal }>().principal,
);
