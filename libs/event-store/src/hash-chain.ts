import * as crypto from 'node:crypto';
import type { EventMetadata } from '@mrw/contracts';
import type { EventToAppend, RecordedEvent, RecordedMetadata } from './event-store.port';
import { canonicalJson, encode } from './canonical-json';
import { encodeAppend, type EncodedEvent } from './encode-append';

/** What the hash of one event covers: its place in the stream, its content and the link to its predecessor. */
export interface HashableEvent {
  readonly streamName: string;
  readonly revision: number;
  readonly type: string;
  readonly data: unknown;
  /** Must carry `prevHash`; a `hash` field, if present, is ignored. */
  readonly metadata: EventMetadata;
}

/** Hex sha256 of the canonical encoding of an event, its metadata including `prevHash` but not `hash`. */
export function computeEventHash(event: HashableEvent): string {
  // The store-assigned global position is deliberately left out: it differs between
  // adapters and a stream copied to another store must still verify.
  const { hash: _ignored, ...metadata } = event.metadata;
  if (metadata.prevHash === undefined) {
    throw new TypeError('computeEventHash: metadata.prevHash is required (null for revision 0)');
  }
  return hashOfEncoded(event.streamName, event.revision, event.type, encodeMember(event.data), canonicalJson(metadata));
}

/** `data` in canonical JSON, or undefined where JSON has no value for it (a member that is left out). */
const encodeMember = (value: unknown): string | undefined => encode(value, [], []);

/**
 * The hash over an event whose data and metadata are already in canonical JSON: the canonical
 * encoding of `{streamName, revision, type, data, metadata}` is written out directly, its keys
 * in sorted order (`data`, `metadata`, `revision`, `streamName`, `type`), so a writer encodes
 * each event once for both its hash and its stored form.
 */
function hashOfEncoded(streamName: string, revision: number, type: string, data: string | undefined, metadata: string): string {
  const canonical = `{${data === undefined ? '' : `"data":${data},`}"metadata":${metadata},"revision":${JSON.stringify(revision)},"streamName":${JSON.stringify(streamName)},"type":${JSON.stringify(type)}}`;
  return sha256Hex(canonical);
}

/** Hex sha256 of UTF-8 text: the one-shot `crypto.hash` (Node 20.12 and later), half the cost of a Hash object, where there is one. */
const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'hex')
    : (text) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');

/** An event with its place in the stream and its hash-chain links filled in, as objects. */
export interface ChainedEvent {
  readonly streamName: string;
  readonly revision: number;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: RecordedMetadata;
}

/** One event chained, in the text a store writes: what a read parses back, and exactly what its hash covers. */
export interface ChainedRow {
  readonly revision: number;
  readonly eventId: string;
  readonly type: string;
  /** Canonical JSON of the data. */
  readonly data: string;
  /** JSON of the metadata: canonical with `prevHash`, then `hash` as its last member. */
  readonly metadata: string;
  readonly prevHash: string | null;
  readonly hash: string;
}

/** Assigns revisions from `startRevision` and links each event to the previous one's hash (the object form, for stores that take objects). */
export function chainEvents(
  prevHash: string | null,
  startRevision: number,
  streamName: string,
  events: readonly EventToAppend[],
): ChainedEvent[] {
  return chainEncodedEvents(prevHash, startRevision, streamName, encodeAppend(streamName, events)).map((row, index) => {
    const { hash: _staleHash, prevHash: _stalePrevHash, ...metadata } = (events[index] as EventToAppend).metadata as EventToAppend['metadata'] & {
      hash?: unknown;
      prevHash?: unknown;
    };
    return {
      streamName,
      revision: row.revision,
      type: row.type,
      data: (events[index] as EventToAppend).data,
      metadata: { ...metadata, prevHash: row.prevHash, hash: row.hash },
    };
  });
}

/**
 * Chains events encoded by `encodeAppend`: revisions from `startRevision`, each event's
 * `prevHash` the hash of the one before. Only text is put together here, so a store can chain
 * inside its write transaction at little cost, after reading the stream's head.
 */
export function chainEncodedEvents(
  prevHash: string | null,
  startRevision: number,
  streamName: string,
  events: readonly EncodedEvent[],
): ChainedRow[] {
  if (!Number.isSafeInteger(startRevision) || startRevision < 0) {
    throw new RangeError(`chainEvents: invalid start revision ${startRevision}`);
  }
  if ((startRevision === 0) !== (prevHash === null)) {
    throw new RangeError('chainEvents: prevHash must be null exactly when starting at revision 0');
  }
  let previous = prevHash;
  return events.map((event, index) => {
    const revision = startRevision + index;
    const link = `"prevHash":${previous === null ? 'null' : JSON.stringify(previous)}`;
    // The metadata without its closing brace: canonical (keys in order, `prevHash` among them), ready for `}` or for `hash`.
    const open = `{${event.metadataBefore === '' ? '' : `${event.metadataBefore},`}${link}${event.metadataAfter === '' ? '' : `,${event.metadataAfter}`}`;
    const hash = hashOfEncoded(streamName, revision, event.type, event.data, `${open}}`);
    const row: ChainedRow = { revision, eventId: event.eventId, type: event.type, data: event.data, metadata: `${open},"hash":"${hash}"}`, prevHash: previous, hash };
    previous = hash;
    return row;
  });
}

/** The verdict on one stream's hash chain. `brokenAt` is the first revision that cannot be trusted. */
export type ChainVerification =
  | { readonly valid: true; readonly events: number; readonly head: string | null }
  | { readonly valid: false; readonly events: number; readonly brokenAt: number; readonly reason: string };

/** Checks a whole stream, read forwards from revision 0: revision continuity, prevHash links and every hash. */
export function verifyChain(
  events: readonly Pick<RecordedEvent, 'streamName' | 'revision' | 'type' | 'data' | 'metadata'>[],
): ChainVerification {
  const count = events.length;
  const broken = (brokenAt: number, reason: string): ChainVerification => ({
    valid: false,
    events: count,
    brokenAt,
    reason,
  });
  let previous: string | null = null;
  const streamName = events[0]?.streamName;
  for (const [index, event] of events.entries()) {
    if (event.streamName !== streamName) {
      return broken(index, `event at index ${index} belongs to stream ${event.streamName}, not ${String(streamName)}`);
    }
    if (event.revision !== index) {
      return broken(index, `expected revision ${index}, found ${event.revision}`);
    }
    if (event.metadata.prevHash !== previous) {
      return broken(index, `prevHash does not match the hash of revision ${index - 1}`);
    }
    if (typeof event.metadata.hash !== 'string') {
      return broken(index, 'hash missing');
    }
    let recomputed: string;
    try {
      recomputed = computeEventHash(event);
    } catch (error) {
      return broken(index, `cannot encode event: ${(error as Error).message}`);
    }
    if (recomputed !== event.metadata.hash) {
      return broken(index, 'hash does not match the event content');
    }
    previous = event.metadata.hash;
  }
  return { valid: true, events: count, head: previous };
}
