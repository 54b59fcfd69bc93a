import { randomUUID } from 'node:crypto';
import type { EventToAppend } from '../event-store.port';

/** An event ready to append in tests: fresh ids, a fixed time, the given actor id. */
export const testEvent = (type: string, data: unknown = {}, actorId = 'test'): EventToAppend => ({
  type,
  data,
  metadata: {
    eventId: randomUUID(),
    occurredAt: '2030-01-01T00:00:00.000Z',
    actor: { kind: 'service', id: actorId },
    correlationId: randomUUID(),
    causationId: null,
    schemaVersion: 1,
  },
});

/** Metadata with nothing random in it, for tests that compare encodings or hashes against fixed text. */
export const fixedMetadata = (eventId: string): EventToAppend['metadata'] => ({
  eventId,
  occurredAt: '2030-01-01T00:00:00.000Z',
  actor: { kind: 'user', id: 'alice' },
  correlationId: 'c-1',
  causationId: null,
  schemaVersion: 1,
});
