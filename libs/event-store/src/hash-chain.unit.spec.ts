import type { EventToAppend, RecordedEvent } from './event-store.port';
import { canonicalJson } from './canonical-json';
import { encodeAppend } from './encode-append';
import { chainEncodedEvents, chainEvents, computeEventHash, verifyChain, type ChainedEvent } from './hash-chain';
import { fixedMetadata } from './testing/test-event';

const metadata = fixedMetadata;

const STREAM = 'modelVersion-churn@7';

const chained = (count: number): ChainedEvent[] =>
  chainEvents(
    null,
    0,
    STREAM,
    Array.from({ length: count }, (_, index) => ({ type: `Step${index}`, data: { index }, metadata: metadata(`e-${index}`) })),
  );

describe('computeEventHash', () => {
  const registered = {
    streamName: STREAM,
    revision: 0,
    type: 'ModelVersionRegistered',
    data: { labels: ['churn', 'stay'], accuracy: 0.91 },
    metadata: { ...metadata('e-1'), prevHash: null },
  };

  it('matches a known vector (sha256 of the canonical encoding, computed with sha256sum)', () => {
    expect(computeEventHash(registered)).toBe('74fb14cb80a0e19efac99a7b1c5248a8b05a91d3e3d91529984073ee0c5c2e88');
  });

  it('ignores a hash already present in the metadata', () => {
    expect(computeEventHash({ ...registered, metadata: { ...registered.metadata, hash: 'stale' } })).toBe(
      computeEventHash(registered),
    );
  });

  it('requires prevHash', () => {
    const { prevHash: _prevHash, ...withoutPrevHash } = registered.metadata;
    expect(() => computeEventHash({ ...registered, metadata: withoutPrevHash })).toThrow(/prevHash/);
  });
});

describe('chainEvents', () => {
  it('assigns revisions and links each event to the previous hash', () => {
    const events = chained(3);
    expect(events.map((event) => event.revision)).toEqual([0, 1, 2]);
    expect(events[0]?.metadata.prevHash).toBeNull();
    expect(events[1]?.metadata.prevHash).toBe(events[0]?.metadata.hash);
    expect(events[2]?.metadata.prevHash).toBe(events[1]?.metadata.hash);
    expect(events[0]?.metadata.eventId).toBe('e-0');
  });

  it('continues a chain: two appends hash the same as one', () => {
    const all = chained(3);
    const head = all[1]?.metadata.hash ?? null;
    const [continued] = chainEvents(head, 2, STREAM, [{ type: 'Step2', data: { index: 2 }, metadata: metadata('e-2') }]);
    expect(continued).toEqual(all[2]);
  });

  it('overwrites stale chain fields on the input', () => {
    const stale = { type: 'Step0', data: { index: 0 }, metadata: { ...metadata('e-0'), prevHash: 'x', hash: 'y' } };
    expect(chainEvents(null, 0, STREAM, [stale])).toEqual(chained(1));
  });

  it('refuses a prevHash that contradicts the start revision', () => {
    expect(() => chainEvents('abc', 0, STREAM, [])).toThrow(RangeError);
    expect(() => chainEvents(null, 3, STREAM, [])).toThrow(RangeError);
  });
});

describe('verifyChain', () => {
  const recorded = (events: readonly ChainedEvent[]): RecordedEvent[] =>
    events.map((event, index) => ({ ...event, position: BigInt(index + 1) }));

  it('accepts an intact chain and reports its head', () => {
    const events = recorded(chained(4));
    expect(verifyChain(events)).toEqual({ valid: true, events: 4, head: events[3]?.metadata.hash });
  });

  it('accepts an empty stream', () => {
    expect(verifyChain([])).toEqual({ valid: true, events: 0, head: null });
  });

  it('survives a JSON round trip, as events read back from storage', () => {
    const events = JSON.parse(JSON.stringify(chained(3))) as ChainedEvent[];
    expect(verifyChain(events).valid).toBe(true);
  });

  const tamper = (change: (events: RecordedEvent[]) => RecordedEvent[]) => verifyChain(change(recorded(chained(4))));

  it('detects changed data', () => {
    expect(tamper((events) => events.map((e) => (e.revision === 2 ? { ...e, data: { index: 99 } } : e)))).toMatchObject({
      valid: false,
      events: 4,
      brokenAt: 2,
      reason: expect.stringMatching(/hash/),
    });
  });

  it('detects a changed type', () => {
    expect(tamper((events) => events.map((e) => (e.revision === 1 ? { ...e, type: 'Forged' } : e)))).toMatchObject({
      valid: false,
      brokenAt: 1,
    });
  });

  it('detects changed metadata (who did it)', () => {
    const forged = (e: RecordedEvent): RecordedEvent => ({ ...e, metadata: { ...e.metadata, actor: { kind: 'user', id: 'mallory' } } });
    expect(tamper((events) => events.map((e) => (e.revision === 3 ? forged(e) : e)))).toMatchObject({ valid: false, brokenAt: 3 });
  });

  it('detects a removed event', () => {
    expect(tamper((events) => events.filter((e) => e.revision !== 1))).toMatchObject({
      valid: false,
      events: 3,
      brokenAt: 1,
      reason: 'expected revision 1, found 2',
    });
  });

  it('detects a removed event even when revisions are renumbered', () => {
    const renumbered = (events: RecordedEvent[]): RecordedEvent[] =>
      events.filter((e) => e.revision !== 1).map((e, index) => ({ ...e, revision: index }));
    expect(tamper(renumbered)).toMatchObject({ valid: false, brokenAt: 1, reason: expect.stringMatching(/prevHash/) });
  });

  it('detects reordered events', () => {
    expect(tamper((events) => [events[0], events[2], events[1], events[3]] as RecordedEvent[])).toMatchObject({
      valid: false,
      brokenAt: 1,
    });
  });

  it('detects a first event that claims a predecessor', () => {
    const [first, ...rest] = recorded(chained(2));
    const relinked = { ...(first as RecordedEvent), metadata: { ...(first as RecordedEvent).metadata, prevHash: 'f'.repeat(64) } };
    expect(verifyChain([relinked, ...rest])).toMatchObject({ valid: false, brokenAt: 0 });
  });

  it('detects an event from another stream', () => {
    expect(tamper((events) => events.map((e) => (e.revision === 2 ? { ...e, streamName: 'modelVersion-churn@8' } : e)))).toMatchObject({
      valid: false,
      brokenAt: 2,
    });
  });
});

describe('chainEncodedEvents', () => {
  const input = [
    { type: 'Registered', data: { z: 1, a: [{ y: 'é', x: null }] }, metadata: { ...metadata('e-0'), requestHash: 'r', zeta: { b: 2, a: 1 } } },
    { type: 'Tagged', data: 'a string', metadata: metadata('e-1') },
  ];

  it('stores text that parses back to the chained event, whose hash covers exactly that content', () => {
    const rows = chainEncodedEvents(null, 0, STREAM, encodeAppend(STREAM, input));
    const events = chainEvents(null, 0, STREAM, input);
    rows.forEach((row, index) => {
      const event = events[index] as ChainedEvent;
      expect(row).toMatchObject({ revision: event.revision, eventId: event.metadata.eventId, type: event.type, hash: event.metadata.hash, prevHash: event.metadata.prevHash });
      expect(row.data).toBe(canonicalJson(event.data));
      expect(JSON.parse(row.metadata)).toEqual(event.metadata);
      // Canonical up to the hash, which comes last.
      const { hash, ...unhashed } = event.metadata;
      expect(row.metadata).toBe(`${canonicalJson(unhashed).slice(0, -1)},"hash":"${hash}"}`);
      expect(computeEventHash({ ...event, data: JSON.parse(row.data) as unknown, metadata: JSON.parse(row.metadata) })).toBe(row.hash);
    });
    const read = rows.map((row) => ({ streamName: STREAM, revision: row.revision, type: row.type, position: 0n, data: JSON.parse(row.data) as unknown, metadata: JSON.parse(row.metadata) }));
    expect(verifyChain(read)).toEqual({ valid: true, events: 2, head: rows[1]?.hash });
  });

  it('hashes what computeEventHash hashes for the same event, field for field', () => {
    const [first] = chainEncodedEvents(null, 0, STREAM, encodeAppend(STREAM, input));
    expect(first?.hash).toBe(
      computeEventHash({ streamName: STREAM, revision: 0, type: 'Registered', data: input[0]?.data, metadata: { ...(input[0]?.metadata as ChainedEvent['metadata']), prevHash: null } }),
    );
  });

  it('puts prevHash in its sorted place whatever the metadata holds around it', () => {
    for (const extra of [{}, { a: 1 }, { zz: 1 }, { a: 1, zz: [2] }, { prevHasg: 1, prevHasi: 2 }]) {
      const event = { type: 'T', data: {}, metadata: { ...metadata('e-0'), ...extra } };
      const [row] = chainEncodedEvents('f'.repeat(64), 4, STREAM, encodeAppend(STREAM, [event]));
      const { hash: _hash, ...unhashed } = JSON.parse(row?.metadata ?? '{}') as Record<string, unknown>;
      expect(`${row?.metadata.slice(0, row.metadata.lastIndexOf(',"hash"'))}}`).toBe(canonicalJson(unhashed));
      expect(unhashed['prevHash']).toBe('f'.repeat(64));
    }
  });
});
