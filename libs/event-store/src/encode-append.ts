import { EventTooLargeError, type EventToAppend } from './event-store.port';
import { encodeBounded, inOrder, TOO_DEEP } from './canonical-json';

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

/**
 * One event of an append in canonical JSON, encoded once, before the append waits for its
 * commit: the size check counts this text, the hash covers it and the store keeps it.
 */
export interface EncodedEvent {
  readonly type: string;
  readonly eventId: string;
  /** Canonical JSON of `data`. */
  readonly data: string;
  /**
   * The canonical members of the metadata that sort before `"prevHash"`, and those after, each
   * comma-joined (possibly empty). The chain fields themselves are not among them: chaining
   * puts `prevHash` between the two, so the metadata is encoded once for any predecessor.
   */
  readonly metadataBefore: string;
  readonly metadataAfter: string;
}

/** The chain's own metadata fields: whatever an input carries under these names is replaced. */
const CHAIN_FIELDS = new Set(['hash', 'prevHash']);

/**
 * Encodes an append's events once, refusing what no store can take: data with no JSON value or
 * that JSON cannot hold faithfully (a `TypeError` naming the path), nesting deeper than
 * `MAX_EVENT_DEPTH`, or more than `MAX_APPEND_BYTES` of encoded events counted as EventStoreDB
 * counts them, hash chain included (`EventTooLargeError`).
 */
export function encodeAppend(streamName: string, events: readonly EventToAppend[]): EncodedEvent[] {
  let bytes = 0;
  return events.map((source, index) => {
    const tooDeep = (): EventTooLargeError =>
      new EventTooLargeError(streamName, `a ${source.type} event nests deeper than ${MAX_EVENT_DEPTH} levels`);
    const data = encodeBounded(source.data, 1, MAX_EVENT_DEPTH);
    if (data === TOO_DEEP) throw tooDeep();
    if (data === undefined) throw new TypeError(`encodeAppend: the data of event ${index} has no JSON value`);
    const metadata = source.metadata as unknown as Record<string, unknown>;
    const names = Object.keys(metadata);
    if (!inOrder(names)) names.sort();
    let metadataBefore = '';
    let metadataAfter = '';
    for (const name of names) {
      if (CHAIN_FIELDS.has(name)) continue;
      const value = encodeBounded(metadata[name], 2, MAX_EVENT_DEPTH);
      if (value === TOO_DEEP) throw tooDeep();
      if (value === undefined) continue;
      const member = `${JSON.stringify(name)}:${value}`;
      if (name < 'prevHash') metadataBefore = metadataBefore === '' ? member : `${metadataBefore},${member}`;
      else metadataAfter = metadataAfter === '' ? member : `${metadataAfter},${member}`;
    }
    // As EventStoreDB counts an event (its `Event.SizeOnDisk`): data and metadata bytes as
    // stored, chain included, plus two bytes per UTF-16 unit of the type.
    bytes +=
      2 * source.type.length +
      Buffer.byteLength(data) +
      Buffer.byteLength(metadataBefore) +
      Buffer.byteLength(metadataAfter) +
      3 + // the braces and the comma between the two halves
      CHAIN_METADATA_BYTES;
    if (bytes > MAX_APPEND_BYTES) {
      throw new EventTooLargeError(streamName, `the append holds more than ${MAX_APPEND_BYTES} bytes of events`);
    }
    return { type: source.type, eventId: source.metadata.eventId, data, metadataBefore, metadataAfter };
  });
}

/** `encodeAppend` for an adapter that needs only its verdict, before anything is written. */
export const assertAppendFits = (streamName: string, events: readonly EventToAppend[]): void => {
  encodeAppend(streamName, events);
};
