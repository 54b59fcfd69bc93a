import { DuplicateEventIdError, type EventToAppend, type ExpectedRevision } from './event-store.port';

/** What every append must be, checked before a store is touched: a stream name, events, a valid expected revision, distinct event ids. */
export function validateAppend(streamName: string, events: readonly EventToAppend[], expected: ExpectedRevision): void {
  if (typeof streamName !== 'string' || streamName.length === 0) {
    throw new TypeError('appendToStream: stream name must be a non-empty string');
  }
  if (events.length === 0) throw new RangeError('appendToStream: nothing to append');
  if (typeof expected === 'number' && (!Number.isSafeInteger(expected) || expected < 0)) {
    throw new RangeError(`appendToStream: invalid expected revision ${expected}`);
  }
  const ids = new Set<string>();
  for (const event of events) {
    const id: unknown = event.metadata?.eventId;
    if (typeof id !== 'string' || id.length === 0) throw new TypeError('appendToStream: every event needs a metadata.eventId');
    if (ids.has(id)) throw new DuplicateEventIdError(id, streamName);
    ids.add(id);
  }
}

/** Whether an append expecting `expected` may go on a stream whose last revision is `actual`. */
export const expectedRevisionHolds = (expected: ExpectedRevision, actual: number | 'no_stream'): boolean =>
  expected === 'any' ||
  (expected === 'no_stream' && actual === 'no_stream') ||
  (expected === 'stream_exists' && actual !== 'no_stream') ||
  expected === actual;
