import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { deriveId, isUuid, newId, type CommandMetadata } from '@mrw/contracts';
import { canonicalJson } from '@mrw/event-store';
import { CLOCK, ProblemException, type AuthPrincipal, type Clock } from '@mrw/platform';
import type { Request } from 'express';

const KEY_PATTERN = /^[A-Za-z0-9._:-]{1,200}$/;

/**
 * What makes two requests with one Idempotency-Key "the same request": the parsed body in
 * canonical JSON (key order and whitespace do not matter); the route is in the key's scope.
 */
const requestFingerprint = (request: Request): string =>
  `sha256:${createHash('sha256').update(canonicalJson((request.body as unknown) ?? null), 'utf8').digest('hex')}`;

/**
 * Builds a command's metadata from an HTTP request: the actor from authentication, the
 * time from the clock, the command id from `Idempotency-Key` (scoped to the caller and the
 * route, so two clients' keys never collide) or a fresh one; a keyed request also carries its
 * fingerprint, so a replay of the key with another body is refused.
 */
@Injectable()
export class CommandMetadataFactory {
  constructor(@Inject(CLOCK) private readonly clock: Clock) {}

  fromRequest(principal: AuthPrincipal, request: Request): CommandMetadata {
    const key = request.header('idempotency-key');
    if (key !== undefined && !KEY_PATTERN.test(key)) {
      throw new ProblemException('VALIDATION_FAILED', 'Idempotency-Key must be 1-200 characters of letters, digits, . _ : -', {
        errors: [{ field: 'Idempotency-Key', message: 'invalid format' }],
      });
    }
    const route = `${request.method} ${request.originalUrl.split('?')[0] ?? ''}`;
    const commandId = key ? deriveId(`${principal.actor.kind}:${principal.actor.id}|${route}`, key) : newId();
    const correlation = request.header('x-correlation-id');
    return {
      commandId,
      actor: principal.actor,
      now: this.clock.now().toISOString(),
      correlationId: correlation && isUuid(correlation) ? correlation : commandId,
      causationId: null,
      ...(key ? { requestHash: requestFingerprint(request) } : {}),
    };
  }
}
