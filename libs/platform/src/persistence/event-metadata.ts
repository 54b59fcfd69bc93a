import { newId, SCHEMA_VERSION, type Actor } from '@mrw/contracts';
import type { EventToAppend } from '@mrw/event-store';
import { currentCorrelationId } from '@mrw/logging';
import type { Clock } from './clock';

/**
 * The metadata of an event a request appends outside the registry's command path (a private
 * stream: people, webhook subscriptions): a fresh id, the clock's time, the actor, and the
 * request's correlation id (or the event's own id when the request has none).
 */
export const newEventMetadata = (clock: Clock, actor: Actor): EventToAppend['metadata'] => {
  const eventId = newId();
  return { eventId, occurredAt: clock.now().toISOString(), actor, correlationId: currentCorrelationId(eventId), causationId: null, schemaVersion: SCHEMA_VERSION };
};
