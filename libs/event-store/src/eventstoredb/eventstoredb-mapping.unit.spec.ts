import { randomUUID } from 'node:crypto';
import { ANY, NO_STREAM, START, STREAM_EXISTS } from '@eventstore/db-client';
import { encodeAppend } from '../encode-append';
import { DuplicateEventIdError, type EventToAppend, type RecordedMetadata } from '../event-store.port';
import { chainEncodedEvents, computeEventHash, verifyChain } from '../hash-chain';
import {
  CHECKPOINT_STREAM_PREFIX,
  checkpointData,
  checkpointStreamName,
  commitPositionOf,
  detectReplay,
  expectedRevisionHolds,
  firstReusedId,
  fromEsdbRevision,
  isApplicationEvent,
  isSystemEvent,
  matchesFilter,
  parseCheckpointData,
  redactConnectionString,
  serverFilterFor,
  storedHashOf,
  toEsdbExpectedRevision,
  toEventData,
  toReadPosition,
  toRecordedEvent,
  validateAppend,
  type EsdbRecordedEventLike,
} from './eventstoredb-mapping';

describe('EventStoreDB mapping', () => {
  describe('expected revisions', () => {
    it('maps ours to the client constants, revisions to bigints', () => {
      expect(toEsdbExpectedRevision('any')).toBe(ANY);
      expect(toEsdbExpectedRevision('no_stream')).toBe(NO_STREAM);
      expect(toEsdbExpectedRevision('stream_exists')).toBe(STREAM_EXISTS);
      expect(toEsdbExpectedRevision(0)).toBe(0n);
      expect(toEsdbExpectedRevision(41)).toBe(41n);
    });

    it('refuses revisions that are not non-negative safe integers', () => {
      for (const bad of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) {
        expect(() => toEsdbExpectedRevision(bad)).toThrow(RangeError);
      }
    });

    it("maps the client's current revision back, including -1 as no stream", () => {
      expect(fromEsdbRevision(NO_STREAM)).toBe('no_stream');
      expect(fromEsdbRevision(-1n)).toBe('no_stream');
      expect(fromEsdbRevision(0n)).toBe(0);
      expect(fromEsdbRevision(7n)).toBe(7);
      expect(() => fromEsdbRevision(2n ** 60n)).toThrow(RangeError);
    });

    it('checks the caller condition like the SQLite adapter', () => {
      expect(expectedRevisionHolds('any', 'no_stream')).toBe(true);
      expect(expectedRevisionHolds('any', 3)).toBe(true);
      expect(expectedRevisionHolds('no_stream', 'no_stream')).toBe(true);
      expect(expectedRevisionHolds('no_stream', 0)).toBe(false);
      expect(expectedRevisionHolds('stream_exists', 'no_stream')).toBe(false);
      expect(expectedRevisionHolds('stream_exists', 0)).toBe(true);
      expect(expectedRevisionHolds(2, 2)).toBe(true);
      expect(expectedRevisionHolds(2, 3)).toBe(false);
      expect(expectedRevisionHolds(0, 'no_stream')).toBe(false);
    });
  });

  describe('positions', () => {
    const at = (position: { commit: bigint; prepare: bigint } | undefined) => ({ streamId: 's-1', revision: 0n, position });

    it("takes the commit position as the port's position", () => {
      expect(commitPositionOf(at({ commit: 4242n, prepare: 4242n }))).toBe(4242n);
    });

    it('refuses a missing position or the 2^64-1 marker of servers before 22.6', () => {
      expect(() => commitPositionOf(at(undefined))).toThrow(/22\.6/);
      expect(() => commitPositionOf(at({ commit: 2n ** 64n - 1n, prepare: 2n ** 64n - 1n }))).toThrow(/22\.6/);
      expect(() => commitPositionOf(at({ commit: -1n, prepare: -1n }))).toThrow(/s-1@0/);
    });

    it('reads from the start for 0n or nothing, else from commit = prepare = the position', () => {
      expect(toReadPosition(undefined)).toBe(START);
      expect(toReadPosition(0n)).toBe(START);
      expect(toReadPosition(1234n)).toEqual({ commit: 1234n, prepare: 1234n });
      expect(() => toReadPosition(-5n)).toThrow(RangeError);
      expect(() => toReadPosition(5 as unknown as bigint)).toThrow(RangeError);
    });
  });

  describe('system and checkpoint events', () => {
    it('treats $ streams and $ types as system events', () => {
      expect(isSystemEvent('$stats-127.0.0.1:2113', '$statsCollected')).toBe(true);
      expect(isSystemEvent('$$modelVersion-a@1', '$metadata')).toBe(true);
      expect(isSystemEvent('$ce-modelVersion', 'ModelVersionRegistered')).toBe(true);
      expect(isSystemEvent('modelVersion-a@1', '$>')).toBe(true);
      expect(isSystemEvent('modelVersion-a@1', 'ModelVersionRegistered')).toBe(false);
    });

    it('keeps checkpoint streams out of application events', () => {
      expect(checkpointStreamName('registry-forwarder')).toBe(`${CHECKPOINT_STREAM_PREFIX}registry-forwarder`);
      expect(isApplicationEvent(checkpointStreamName('x'), 'MrwCheckpointStored')).toBe(false);
      expect(isApplicationEvent('model-churn', 'ModelCreated')).toBe(true);
      expect(() => checkpointStreamName('')).toThrow(TypeError);
    });

    it('round-trips checkpoint data and refuses anything else', () => {
      expect(parseCheckpointData(checkpointData(123456789012345678901n), 's')).toBe(123456789012345678901n);
      expect(() => parseCheckpointData({ position: 12 }, 'mrwCheckpoint-a')).toThrow(/mrwCheckpoint-a/);
      expect(() => parseCheckpointData({ position: '-1' }, 's')).toThrow();
      expect(() => parseCheckpointData(null, 's')).toThrow();
    });
  });

  describe('filters', () => {
    it('matches exactly on the client: literal case-sensitive prefixes, exact types, both together', () => {
      const filter = { streamPrefixes: ['modelVersion-'], eventTypes: ['Noted'] };
      expect(matchesFilter('modelVersion-a@1', 'Noted', filter)).toBe(true);
      expect(matchesFilter('modelVersion-a@1', 'NotedAgain', filter)).toBe(false);
      expect(matchesFilter('ModelVersion-a@1', 'Noted', filter)).toBe(false);
      expect(matchesFilter('model-a', 'Noted', filter)).toBe(false);
      expect(matchesFilter('x%y', 'A', { streamPrefixes: ['x_'] })).toBe(false);
      expect(matchesFilter('anything', 'Any', undefined)).toBe(true);
    });

    it('matches nothing with empty lists, and never system or checkpoint events', () => {
      expect(matchesFilter('s-1', 'A', { streamPrefixes: [] })).toBe(false);
      expect(matchesFilter('s-1', 'A', { eventTypes: [] })).toBe(false);
      expect(matchesFilter('$stats-1', 'A', { streamPrefixes: ['$'] })).toBe(false);
      expect(matchesFilter('s-1', '$>', undefined)).toBe(false);
      expect(matchesFilter(checkpointStreamName('a'), 'MrwCheckpointStored', { streamPrefixes: ['mrw'] })).toBe(false);
    });

    it('sends stream prefixes to the server when there are any', () => {
      const server = serverFilterFor({ streamPrefixes: ['a-', 'b-'], eventTypes: ['X'] });
      expect(server.filter).toMatchObject({ filterOn: 'streamName', prefixes: ['a-', 'b-'] });
      expect(server.passes('a-1', 'Y')).toBe(true);
      expect(server.passes('c-1', 'X')).toBe(false);
    });

    it('sends event types as prefixes otherwise: a superset the client narrows to exact types', () => {
      const server = serverFilterFor({ eventTypes: ['Noted'] });
      expect(server.filter).toMatchObject({ filterOn: 'eventType', prefixes: ['Noted'] });
      expect(server.passes('s-1', 'NotedAgain')).toBe(true);
      expect(matchesFilter('s-1', 'NotedAgain', { eventTypes: ['Noted'] })).toBe(false);
    });

    it('excludes system event types on the server when the port filter gives nothing usable', () => {
      for (const filter of [undefined, {}, { streamPrefixes: [] }, { streamPrefixes: [''] }, { eventTypes: [] }]) {
        const server = serverFilterFor(filter);
        expect(server.filter).toMatchObject({ filterOn: 'eventType', regex: '^[^$].*' });
        expect(server.passes('s-1', 'A')).toBe(true);
        expect(server.passes('s-1', '$metadata')).toBe(false);
      }
    });

    it('never lets the server drop an event the exact filter keeps', () => {
      const filters = [undefined, { streamPrefixes: ['a-'] }, { eventTypes: ['A', 'B'] }, { streamPrefixes: ['a-'], eventTypes: ['A'] }];
      const events = [
        ['a-1', 'A'],
        ['a-1', 'AB'],
        ['b-1', 'B'],
        ['$x', 'A'],
        ['a-1', '$>'],
      ] as const;
      for (const filter of filters) {
        const server = serverFilterFor(filter);
        for (const [stream, type] of events) {
          if (matchesFilter(stream, type, filter)) expect(server.passes(stream, type)).toBe(true);
        }
      }
    });
  });

  describe('appends', () => {
    const event = (overrides: Partial<EventToAppend['metadata']> = {}, type = 'ThingHappened'): EventToAppend => ({
      type,
      data: { b: 1, a: [1, undefined] },
      metadata: {
        eventId: randomUUID(),
        occurredAt: '2030-01-01T00:00:00.000Z',
        actor: { kind: 'user', id: 'u' },
        correlationId: 'c',
        causationId: null,
        schemaVersion: 1,
        ...overrides,
      },
    });

    it('accepts a valid batch', () => {
      expect(() => validateAppend('thing-1', [event(), event()], 'no_stream')).not.toThrow();
      expect(() => validateAppend('thing-1', [event({ eventId: randomUUID().toUpperCase() })], 3)).not.toThrow();
    });

    it('refuses empty batches, reserved names and types, bad revisions and non-UUID ids', () => {
      expect(() => validateAppend('thing-1', [], 'any')).toThrow(RangeError);
      expect(() => validateAppend('', [event()], 'any')).toThrow(TypeError);
      expect(() => validateAppend('$thing', [event()], 'any')).toThrow(/system stream/);
      expect(() => validateAppend(checkpointStreamName('x'), [event()], 'any')).toThrow(/reserved/);
      expect(() => validateAppend('thing-1', [event({}, '$thing')], 'any')).toThrow(/reserved/);
      expect(() => validateAppend('thing-1', [event()], -1)).toThrow(RangeError);
      expect(() => validateAppend('thing-1', [event()], 'latest' as never)).toThrow(RangeError);
      expect(() => validateAppend('thing-1', [event({ eventId: 'cmd-1' })], 'any')).toThrow(/UUID/);
    });

    it('refuses an id repeated in the batch, also when only its case differs', () => {
      const first = event();
      const again = event({ eventId: first.metadata.eventId.toUpperCase() });
      expect(() => validateAppend('thing-1', [first, again], 'any')).toThrow(DuplicateEventIdError);
    });

    it('sends what it hashed: the chained canonical text parsed back, which the client writes and a read re-hashes the same', () => {
      const source = event();
      const [row] = chainEncodedEvents(null, 0, 'thing-1', encodeAppend('thing-1', [source]));
      const data = toEventData(row as NonNullable<typeof row>);
      expect(data).toMatchObject({ id: source.metadata.eventId, contentType: 'application/json', type: 'ThingHappened' });
      // Canonical: keys in order, an undefined array member as null.
      expect(data.data).toStrictEqual({ a: [1, null], b: 1 });
      expect(data.metadata).toMatchObject({ eventId: source.metadata.eventId, prevHash: null, hash: row?.hash });
      // What the client sends (JSON.stringify) reads back to a value that hashes the same.
      const roundTripped = JSON.parse(JSON.stringify({ data: data.data, metadata: data.metadata })) as {
        data: unknown;
        metadata: RecordedMetadata;
      };
      expect(computeEventHash({ streamName: 'thing-1', revision: 0, type: 'ThingHappened', ...roundTripped })).toBe(row?.hash);
      expect(verifyChain([{ streamName: 'thing-1', revision: 0, type: 'ThingHappened', ...roundTripped }])).toMatchObject({ valid: true });
    });
  });

  describe('idempotent replay', () => {
    const ids = Array.from({ length: 5 }, () => randomUUID());
    const stored = ids.map((id, revision) => ({ id, revision, position: BigInt(1000 + revision * 100) }));

    it('returns the original result for a replayed batch, wherever the stream is now', () => {
      expect(detectReplay('s', [ids[1] as string, ids[2] as string], stored)).toEqual({
        nextExpectedRevision: 2,
        position: 1200n,
        appended: false,
      });
      expect(detectReplay('s', [(ids[4] as string).toUpperCase()], stored)).toEqual({ nextExpectedRevision: 4, position: 1400n, appended: false });
    });

    it('is not a replay when the first id is new', () => {
      expect(detectReplay('s', [randomUUID()], stored)).toBeUndefined();
      expect(detectReplay('s', [randomUUID()], [])).toBeUndefined();
    });

    it('fails when the stored ids do not line up with the batch', () => {
      expect(() => detectReplay('s', [ids[3] as string, ids[4] as string, randomUUID()], stored)).toThrow(DuplicateEventIdError);
      expect(() => detectReplay('s', [ids[1] as string, ids[0] as string], stored)).toThrow(DuplicateEventIdError);
      expect(() => detectReplay('s', [ids[1] as string, ids[3] as string], stored)).toThrow(DuplicateEventIdError);
    });

    it('finds an already stored id later in a new batch', () => {
      const fresh = randomUUID();
      expect(firstReusedId([fresh, ids[0] as string], stored)).toBe(ids[0]);
      expect(firstReusedId([fresh], stored)).toBeUndefined();
    });
  });

  describe('recorded events', () => {
    const recorded = (overrides: Partial<EsdbRecordedEventLike> = {}): EsdbRecordedEventLike => ({
      streamId: 'thing-1',
      id: randomUUID(),
      revision: 2n,
      type: 'ThingHappened',
      isJson: true,
      data: { a: 1 },
      metadata: { eventId: 'x', hash: 'a'.repeat(64), prevHash: null },
      position: { commit: 9000n, prepare: 9000n },
      ...overrides,
    });

    it('maps stream, revision, position, type, data and metadata', () => {
      expect(toRecordedEvent(recorded())).toEqual({
        streamName: 'thing-1',
        revision: 2,
        position: 9000n,
        type: 'ThingHappened',
        data: { a: 1 },
        metadata: { eventId: 'x', hash: 'a'.repeat(64), prevHash: null },
      });
    });

    it('refuses events this adapter did not write: binary, or without a metadata object', () => {
      expect(() => toRecordedEvent(recorded({ isJson: false, data: new Uint8Array([1]) }))).toThrow(/not JSON/);
      expect(() => toRecordedEvent(recorded({ metadata: undefined }))).toThrow(/metadata/);
      expect(() => toRecordedEvent(recorded({ metadata: new Uint8Array([1]) }))).toThrow(/metadata/);
    });

    it('takes the previous hash from the stored head, and refuses a head without one', () => {
      expect(storedHashOf(recorded())).toBe('a'.repeat(64));
      expect(() => storedHashOf(recorded({ metadata: { eventId: 'x' } }))).toThrow(/hash chain/);
      expect(() => storedHashOf(recorded({ metadata: undefined }))).toThrow(/hash chain/);
    });
  });

  describe('connection strings', () => {
    it('hides the password and keeps the rest, so errors name the server', () => {
      expect(redactConnectionString('esdb://admin:changeit@db.internal:2113?tls=false')).toBe('esdb://admin:***@db.internal:2113?tls=false');
      expect(redactConnectionString('esdb+discover://ops:p%40ss@cluster:2113')).toBe('esdb+discover://ops:***@cluster:2113');
      expect(redactConnectionString('esdb://localhost:2113?tls=false')).toBe('esdb://localhost:2113?tls=false');
    });
  });
});
