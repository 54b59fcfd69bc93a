import { HEADERS } from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';
import { PoisonMessageError, type IncomingMessage, type OutgoingMessage } from './message-bus.port';

/** A stored event's message headers (DESIGN section 5). */
export const eventHeaders = (event: RecordedEvent): Record<string, string> => ({
  [HEADERS.eventType]: event.type,
  [HEADERS.eventId]: event.metadata.eventId,
  [HEADERS.correlationId]: event.metadata.correlationId,
  [HEADERS.causationId]: event.metadata.causationId ?? '',
  [HEADERS.stream]: event.streamName,
  [HEADERS.revision]: String(event.revision),
});

/** A stored event as a message value: JSON of the event, its position as a string. */
export const eventValue = (event: RecordedEvent): string =>
  JSON.stringify({
    streamName: event.streamName,
    revision: event.revision,
    position: event.position.toString(),
    type: event.type,
    data: event.data,
    metadata: event.metadata,
  });

/** A stored event as a message on `mrw.registry.events.v1`: key = stream, headers per DESIGN section 5. */
export const encodeEvent = (event: RecordedEvent): OutgoingMessage => ({
  key: event.streamName,
  value: eventValue(event),
  headers: eventHeaders(event),
});

/** The stored event a message carries; a PoisonMessageError when it is not one. */
export const decodeEvent = (message: IncomingMessage): RecordedEvent => {
  // The embedded bus hands over the event it encoded: the same value, already parsed.
  if (message.recorded !== undefined) return message.recorded;
  let parsed: Partial<Record<string, unknown>>;
  try {
    parsed = JSON.parse(message.value) as Partial<Record<string, unknown>>;
  } catch (error) {
    throw new PoisonMessageError(`not JSON: ${(error as Error).message}`);
  }
  const metadata = parsed['metadata'] as { eventId?: unknown } | undefined;
  if (
    typeof parsed['streamName'] !== 'string' ||
    typeof parsed['type'] !== 'string' ||
    typeof parsed['revision'] !== 'number' ||
    typeof parsed['position'] !== 'string' ||
    !/^\d+$/.test(parsed['position']) ||
    typeof metadata?.eventId !== 'string'
  ) {
    throw new PoisonMessageError('not a registry event: needs streamName, type, revision, position and metadata.eventId');
  }
  return {
    streamName: parsed['streamName'],
    revision: parsed['revision'],
    position: BigInt(parsed['position']),
    type: parsed['type'],
    data: parsed['data'],
    metadata: parsed['metadata'] as RecordedEvent['metadata'],
  };
};
