import { EventTooLargeError, type EventToAppend } from './event-store.port';
import { canonicalJson } from './canonical-json';
import { encodeAppend, MAX_APPEND_BYTES, MAX_EVENT_DEPTH } from './encode-append';
import { fixedMetadata } from './testing/test-event';

const metadata = fixedMetadata;

describe('encodeAppend', () => {
  it('encodes data and metadata canonically, leaving out stale chain fields, split around prevHash', () => {
    const [encoded] = encodeAppend('s-1', [{ type: 'T', data: { b: [1, undefined], a: 'x' }, metadata: { ...metadata('e-1'), prevHash: 'old', hash: 'old', zeta: 1 } as EventToAppend['metadata'] }]);
    expect(encoded).toEqual({
      type: 'T',
      eventId: 'e-1',
      data: canonicalJson({ a: 'x', b: [1, null] }),
      metadataBefore: '"actor":{"id":"alice","kind":"user"},"causationId":null,"correlationId":"c-1","eventId":"e-1","occurredAt":"2030-01-01T00:00:00.000Z"',
      metadataAfter: '"schemaVersion":1,"zeta":1',
    });
  });

  it('refuses data with no JSON value, and data JSON cannot hold, naming where', () => {
    expect(() => encodeAppend('s-1', [{ type: 'T', data: undefined, metadata: metadata('e-1') }])).toThrow(/data of event 0 has no JSON value/);
    expect(() => encodeAppend('s-1', [{ type: 'T', data: { n: Number.NaN }, metadata: metadata('e-1') }])).toThrow(/non-finite number at \$\.n/);
  });

  it('refuses nesting deeper than MAX_EVENT_DEPTH in data or metadata, and a cycle, as too large', () => {
    let deep: unknown = 1;
    for (let level = 0; level < MAX_EVENT_DEPTH; level += 1) deep = [deep];
    expect(() => encodeAppend('s-1', [{ type: 'Deep', data: deep, metadata: metadata('e-1') }])).not.toThrow();
    expect(() => encodeAppend('s-1', [{ type: 'Deep', data: [deep], metadata: metadata('e-1') }])).toThrow(EventTooLargeError);
    // Metadata is the top-level object: a member holding `deep` sits one level down.
    const deepMetadata = { ...metadata('e-1'), trace: deep } as EventToAppend['metadata'];
    expect(() => encodeAppend('s-1', [{ type: 'Deep', data: {}, metadata: deepMetadata }])).toThrow(/nests deeper than 128 levels/);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => encodeAppend('s-1', [{ type: 'Loop', data: cyclic, metadata: metadata('e-1') }])).toThrow(EventTooLargeError);
  });

  it('counts the whole append against MAX_APPEND_BYTES, as stored with its chain', () => {
    const event = (id: string, size: number): EventToAppend => ({ type: 'Big', data: { blob: 'é'.repeat(size) }, metadata: metadata(id) });
    // Two bytes per é: half the limit in characters is the whole limit in bytes.
    expect(() => encodeAppend('s-1', [event('e-1', MAX_APPEND_BYTES / 4), event('e-2', MAX_APPEND_BYTES / 4)])).toThrow(/more than 1048576 bytes/);
    expect(() => encodeAppend('s-1', [event('e-1', MAX_APPEND_BYTES / 4 - 1_000)])).not.toThrow();
  });
});
