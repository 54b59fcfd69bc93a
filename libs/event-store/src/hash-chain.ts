import * as crypto from 'node:crypto';
import type { EventMetadata } from '@mrw/contracts';
import type { EventToAppend, RecordedEvent, RecordedMetadata } from './event-store.port';

/**
 * Canonical JSON: object keys sorted (UTF-16 code unit order) at every depth, no
 * whitespace, numbers and strings as `JSON.stringify` writes them, so it matches
 * RFC 8785 (JCS) for ordinary input.
 *
 * It follows JSON's own conversions where they are lossless on a round trip through
 * storage (`toJSON()`, `undefined` properties dropped, `undefined` array items as
 * `null`), so the hash of an event before it is stored equals the hash recomputed from
 * what is read back. Where JSON would silently lose data it throws instead: non-finite
 * numbers, bigint, functions, symbols, Map/Set/typed arrays, cycles.
 */
export function canonicalJson(value: unknown): string {
  const encoded = encode(value, [], []);
  if (encoded === undefined) {
    throw new TypeError('canonicalJson: the top-level value is not representable in JSON');
  }
  return encoded;
}

/** `$.a[2].b`, built only when an error needs it: the hot path keeps a stack of keys, not strings. */
const pathOf = (keys: ReadonlyArray<string | number>): string =>
  `$${keys.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('')}`;

/**
 * One value in canonical JSON. Written for the append path, where every event's data and
 * metadata pass through it: primitives first, plain objects and arrays without the checks only
 * exotic objects need, and the objects being encoded kept in an array (a cycle is at most as
 * deep as the nesting, which is shallow).
 */
function encode(value: unknown, keys: Array<string | number>, ancestors: object[]): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number at ${pathOf(keys)}`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return undefined;
    case 'bigint':
      throw new TypeError(`canonicalJson: bigint at ${pathOf(keys)} (encode it as a string)`);
    case 'function':
    case 'symbol':
      throw new TypeError(`canonicalJson: ${typeof value} at ${pathOf(keys)}`);
  }
  if (value === null) return 'null';
  const object = value as object;
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') {
    return encode((object as { toJSON: (key: string) => unknown }).toJSON(pathOf(keys)), keys, ancestors);
  }
  const isArray = Array.isArray(object);
  if (!isArray) {
    const prototype = Object.getPrototypeOf(object) as unknown;
    if (prototype !== Object.prototype && prototype !== null && (object instanceof Map || object instanceof Set || ArrayBuffer.isView(object) || object instanceof ArrayBuffer)) {
      throw new TypeError(`canonicalJson: ${object.constructor.name} at ${pathOf(keys)} has no faithful JSON form`);
    }
  }
  if (ancestors.includes(object)) throw new TypeError(`canonicalJson: cycle at ${pathOf(keys)}`);
  ancestors.push(object);
  let out: string;
  if (isArray) {
    const array = object as unknown[];
    out = '[';
    for (let index = 0; index < array.length; index += 1) {
      keys.push(index);
      out += `${index > 0 ? ',' : ''}${encode(array[index], keys, ancestors) ?? 'null'}`;
      keys.pop();
    }
    out += ']';
  } else {
    const names = Object.keys(object);
    if (!inOrder(names)) names.sort();
    out = '{';
    for (const key of names) {
      keys.push(key);
      const member = encode((object as Record<string, unknown>)[key], keys, ancestors);
      keys.pop();
      if (member === undefined) continue;
      out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${member}`;
    }
    out += '}';
  }
  ancestors.pop();
  return out;
}

/** Whether keys are already in canonical (UTF-16 code unit) order, as most objects written in code are not, but stored ones are. */
const inOrder = (names: readonly string[]): boolean => {
  for (let i = 1; i < names.length; i += 1) if ((names[i - 1] as string) > (names[i] as string)) return false;
  return true;
};

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

/** An event with its place in the stream and its hash-chain links filled in, ready to store. */
export interface ChainedEvent {
  readonly streamName: string;
  readonly revision: number;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: RecordedMetadata;
}

/** A chained event with the JSON text to store for its data and metadata (what a read parses back). */
export interface EncodedChainedEvent {
  readonly event: ChainedEvent;
  /** Canonical JSON of `data`. */
  readonly data: string;
  /** JSON of the metadata: canonical, then `hash` as its last member. */
  readonly metadata: string;
}

/** Assigns revisions from `startRevision` and links each event to the previous one's hash. */
export function chainEvents(
  prevHash: string | null,
  startRevision: number,
  streamName: string,
  events: readonly EventToAppend[],
): ChainedEvent[] {
  return chainEncodedEvents(prevHash, startRevision, streamName, events).map((encoded) => encoded.event);
}

/** `chainEvents`, with each event's data and metadata encoded once: the text its hash covers is the text stored. */
export function chainEncodedEvents(
  prevHash: string | null,
  startRevision: number,
  streamName: string,
  events: readonly EventToAppend[],
): EncodedChainedEvent[] {
  if (!Number.isSafeInteger(startRevision) || startRevision < 0) {
    throw new RangeError(`chainEvents: invalid start revision ${startRevision}`);
  }
  if ((startRevision === 0) !== (prevHash === null)) {
    throw new RangeError('chainEvents: prevHash must be null exactly when starting at revision 0');
  }
  let previous = prevHash;
  return events.map((event, index) => {
    // Spread first so a stale prevHash/hash on a copied event can never survive.
    const { hash: _stale, ...rest } = event.metadata as EventToAppend['metadata'] & { hash?: unknown };
    const metadata = { ...rest, prevHash: previous };
    const revision = startRevision + index;
    const data = encodeMember(event.data);
    if (data === undefined) throw new TypeError(`chainEvents: the data of event ${index} has no JSON value`);
    const metadataJson = canonicalJson(metadata);
    const hash = hashOfEncoded(streamName, revision, event.type, data, metadataJson);
    previous = hash;
    return {
      event: { streamName, revision, type: event.type, data: event.data, metadata: { ...metadata, hash } },
      data,
      // The metadata is a non-empty object (it has an eventId), so `hash` goes in before its closing brace.
      metadata: `${metadataJson.slice(0, -1)},"hash":${JSON.stringify(hash)}}`,
    };
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
