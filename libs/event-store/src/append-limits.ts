import { EventTooLargeError, type EventToAppend } from './event-store.port';
import { canonicalJson } from './hash-chain';

/**
 * The most one append may hold: the encoded data and metadata of all its events, in bytes.
 * EventStoreDB refuses appends over its `MaxAppendSize` (default 1 MiB), so every adapter
 * holds to that one limit and an append that works on SQLite also works there.
 */
export const MAX_APPEND_BYTES = 1024 * 1024;

/**
 * How deeply an event's data or metadata may nest. SQLite's JSON functions (the store's
 * `json_valid` checks) stop at 1,000 levels and the canonical encoder recurses per level;
 * 128 leaves requests (at most 64 levels) room inside an event's data.
 */
export const MAX_EVENT_DEPTH = 128;

/**
 * What the hash chain adds to an event's metadata before it is stored and counted by the
 * server: `,"hash":"<64 hex>"` and `,"prevHash":"<64 hex>"` (or `null`, which is shorter).
 */
const CHAIN_METADATA_BYTES = `,"hash":"${'0'.repeat(64)}","prevHash":"${'0'.repeat(64)}"`.length;

const depthExceeds = (value: unknown, limit: number): boolean => {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop() as { value: unknown; depth: number };
    if (typeof current !== 'object' || current === null) continue;
    if (depth > limit) return true;
    for (const child of Object.values(current)) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: depth + 1 });
    }
  }
  return false;
};

/**
 * Refuses, before anything is written, an append the stores cannot take: nesting deeper than
 * `MAX_EVENT_DEPTH`, or more than `MAX_APPEND_BYTES` of encoded events counted as EventStoreDB
 * counts them, hash chain included (`EventTooLargeError`).
 */
export const assertAppendFits = (streamName: string, events: readonly EventToAppend[]): void => {
  let bytes = 0;
  for (const event of events) {
    if (depthExceeds(event.data, MAX_EVENT_DEPTH) || depthExceeds(event.metadata, MAX_EVENT_DEPTH)) {
      throw new EventTooLargeError(streamName, `a ${event.type} event nests deeper than ${MAX_EVENT_DEPTH} levels`);
    }
    // As EventStoreDB counts an event (its `Event.SizeOnDisk`): data and metadata bytes as
    // stored, chain included, plus two bytes per UTF-16 unit of the type.
    bytes +=
      2 * event.type.length +
      Buffer.byteLength(canonicalJson(event.data)) +
      Buffer.byteLength(canonicalJson(event.metadata)) +
      CHAIN_METADATA_BYTES;
    if (bytes > MAX_APPEND_BYTES) {
      throw new EventTooLargeError(streamName, `the append holds more than ${MAX_APPEND_BYTES} bytes of events`);
    }
  }
};
