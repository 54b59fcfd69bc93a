import type { Server } from 'node:http';
import { followRegistryEvents, type RegistryEvent } from '@mrw/client/browser';
import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import { waitFor } from '@mrw/event-store/testing';
import { startRegistry, type RegistryHarness } from '@mrw/registry/testing';

/*
 * @mrw/client's live event reader against a real registry: the server drops the connection, the
 * log moves on while the reader is away, and the reader comes back with Last-Event-ID and gets
 * exactly what it missed.
 */
describe('followRegistryEvents (@mrw/client) against the registry', () => {
  let registry: RegistryHarness;

  beforeAll(async () => {
    registry = await startRegistry();
  });

  afterAll(async () => {
    await registry.close();
  });

  it('reconnects after the server drops the connection and resumes without loss or duplicates', async () => {
    const store = registry.app.get<EventStore>(EVENT_STORE);
    await registry.http('POST', '/api/v1/models', { body: { name: 'watched' } });
    const start = await store.headPosition();

    // Every reconnection waits at this gate until the test has moved the log on.
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const sent: Array<Record<string, string>> = [];
    const gatedFetch = (async (url: string, init?: RequestInit) => {
      sent.push({ ...(init?.headers as Record<string, string>) });
      if (sent.length > 1) await gate;
      return fetch(url, init);
    }) as typeof fetch;

    const controller = new AbortController();
    const received: RegistryEvent[] = [];
    let opens = 0;
    const drops: unknown[] = [];
    const following = (async () => {
      for await (const event of followRegistryEvents({
        url: registry.baseUrl,
        token: registry.adminToken,
        model: 'watched',
        signal: controller.signal,
        fetch: gatedFetch,
        maxRetryMs: 20,
        onOpen: () => (opens += 1),
        onDrop: (error) => drops.push(error),
      })) {
        received.push(event);
      }
    })();
    const seen = (position: bigint) => () => received.some((e) => e.id === String(position));

    try {
      await waitFor(() => opens === 1, 5_000, 'the stream open');
      const first = await registry.http('POST', '/api/v1/models/watched/versions', { body: { source: 'https://models.example.com/w1.onnx' } });
      expect(first.status).toBe(201);
      const beforeDrop = await store.headPosition();
      await waitFor(seen(beforeDrop), 5_000, 'the events before the drop');

      (registry.app.getHttpServer() as Server).closeAllConnections();
      await waitFor(() => sent.length === 2, 5_000, 'the reader reconnecting');
      // While it is away: a second version, and the first one to Staging.
      expect((await registry.http('POST', '/api/v1/models/watched/versions', { body: { source: 'https://models.example.com/w2.onnx' } })).status).toBe(201);
      expect((await registry.http('POST', '/api/v1/models/watched/versions/1/transitions', { body: { toStage: 'Staging' } })).status).toBe(202);
      const end = await store.headPosition();
      openGate();
      await waitFor(seen(end), 5_000, 'the events appended while it was away');

      expect(sent[1]?.['last-event-id']).toBe(String(beforeDrop));
      expect(opens).toBe(2);
      expect(drops).toHaveLength(1);
      const expected = (await store.readAll({ after: start })).filter((e) => e.streamName === 'model-watched' || e.streamName.startsWith('modelVersion-watched@'));
      expect(received.map((e) => e.id)).toEqual(expected.map((e) => String(e.position)));
      expect(received.map((e) => e.type)).toEqual(expected.map((e) => e.type));
      expect(received.find((e) => e.type === 'ModelVersionRegistered')?.entry).toMatchObject({ model: 'watched', version: 1, stream: 'modelVersion-watched@1' });
    } finally {
      controller.abort();
      openGate();
    }
    // Aborting ends the iteration quietly.
    await expect(following).resolves.toBeUndefined();
  });
});
