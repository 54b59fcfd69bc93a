import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore, type EventStore, type RecordedEvent, type Subscription, type SubscriptionOptions } from '@mrw/event-store';
import { testEvent, waitFor } from '@mrw/event-store/testing';
import { projectionsCaughtUp, startRegistry, type RegistryHarness } from '../testing/registry-harness';
import { LiveEventStreams } from './live-event-streams';

interface Message {
  readonly id: string;
  readonly event: string;
  readonly data: any;
}

/**
 * A raw reader of the stream, kept apart from @mrw/client's on purpose: it checks the wire the
 * server writes (one `\n` per line, blank line after each message), not a tolerant parser.
 */
class RawStream {
  readonly messages: Message[] = [];
  readonly comments: string[] = [];
  ended = false;
  /** Settles when the server ends the stream (or the test aborts it). */
  ending: Promise<void> = Promise.resolve();
  private text = '';
  private wake: () => void = () => undefined;

  private constructor(
    readonly response: Response,
    private readonly controller: AbortController,
  ) {}

  static async open(registry: RegistryHarness, query = '', options: { token?: string | null; headers?: Record<string, string> } = {}): Promise<RawStream> {
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? registry.adminToken : options.token;
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    const controller = new AbortController();
    const response = await fetch(`${registry.baseUrl}/api/v1/events/stream${query}`, { headers, signal: controller.signal });
    const stream = new RawStream(response, controller);
    if (response.ok) stream.ending = stream.pump();
    return stream;
  }

  private async pump(): Promise<void> {
    const reader = (this.response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.text += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = this.text.indexOf('\n\n')) >= 0) {
          const block = this.text.slice(0, end);
          this.text = this.text.slice(end + 2);
          this.take(block);
        }
        this.wake();
      }
    } catch {
      // aborted by the test
    } finally {
      this.ended = true;
      this.wake();
    }
  }

  private take(block: string): void {
    const fields: Record<string, string> = {};
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
      else {
        const colon = line.indexOf(': ');
        expect(colon).toBeGreaterThan(0);
        fields[line.slice(0, colon)] = line.slice(colon + 2);
      }
    }
    if (fields['data'] !== undefined) {
      this.messages.push({ id: fields['id'] as string, event: fields['event'] as string, data: JSON.parse(fields['data']) });
    }
  }

  /** Resolves once `condition` holds, re-checked on every chunk that arrives; fails after `timeoutMs`. */
  async until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (this.ended) throw new Error(`the stream ended before ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what} did not happen within ${timeoutMs} ms; got ${this.messages.map((m) => `${m.id}:${m.event}`).join(', ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Waits for the event at `position`, then checks nothing came twice. */
  async through(position: bigint): Promise<Message[]> {
    await this.until(() => this.messages.some((m) => m.id === String(position)), `the event at ${position}`);
    return this.messages;
  }

  close(): void {
    this.controller.abort();
  }
}

const isLifecycle = (e: RecordedEvent) => e.streamName.startsWith('model-') || e.streamName.startsWith('modelVersion-');
const ofModel = (model: string) => (e: RecordedEvent) => e.streamName === `model-${model}` || e.streamName.startsWith(`modelVersion-${model}@`);

/** Records the subscriptions the app opens, to see them stop. */
const recordingStore = (store: EventStore, opened: Array<{ options: SubscriptionOptions; subscription: Subscription }>): EventStore => ({
  appendToStream: (...args) => store.appendToStream(...args),
  readStream: (...args) => store.readStream(...args),
  readAll: (...args) => store.readAll(...args),
  readAt: (...args) => store.readAt(...args),
  headPosition: () => store.headPosition(),
  close: () => store.close(),
  subscribeToAll: (options) => {
    const subscription = store.subscribeToAll(options);
    opened.push({ options, subscription });
    return subscription;
  },
});

describe('GET /api/v1/events/stream', () => {
  let registry: RegistryHarness;
  let store: SqliteEventStore;
  let dir: string;
  const opened: Array<{ options: SubscriptionOptions; subscription: Subscription }> = [];
  const streams: RawStream[] = [];
  const open = async (...args: Parameters<typeof RawStream.open> extends [unknown, ...infer Rest] ? Rest : never) => {
    const stream = await RawStream.open(registry, ...args);
    streams.push(stream);
    return stream;
  };
  const head = () => store.headPosition();
  const lifecycleAfter = async (after: bigint, model?: string) =>
    (await store.readAll({ after })).filter(isLifecycle).filter(model ? ofModel(model) : () => true);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mrw-event-stream-'));
    store = new SqliteEventStore({ file: join(dir, 'events.sqlite'), synchronous: 'NORMAL' });
    registry = await startRegistry({
      dataDir: dir,
      eventStore: recordingStore(store, opened),
      env: { MRW_EVENT_STREAM_HEARTBEAT: 'PT0.1S' },
    });
  });

  afterEach(async () => {
    streams.splice(0).forEach((s) => s.close());
    await waitFor(() => registry.app.get(LiveEventStreams).open === 0, 5_000, 'every stream closed');
  });

  afterAll(async () => {
    await registry.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('streams, from the head on, the events of a version registered and moved, in log order, each as the audit search shows it', async () => {
    await registry.http('POST', '/api/v1/models', { body: { name: 'earlier' } });
    const start = await head();
    const stream = await open();
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.response.headers.get('cache-control')).toBe('no-cache');
    expect(stream.response.headers.get('x-accel-buffering')).toBe('no');

    expect((await registry.http('POST', '/api/v1/models', { body: { name: 'churn' } })).status).toBe(201);
    expect((await registry.http('POST', '/api/v1/models/churn/versions', { body: { source: 'https://models.example.com/churn-1.onnx' } })).status).toBe(201);
    expect((await registry.http('POST', '/api/v1/models/churn/versions/1/transitions', { body: { toStage: 'Staging' } })).status).toBe(202);
    expect((await registry.http('POST', '/api/v1/models/churn/versions/1/transitions', { body: { toStage: 'None' } })).status).toBeLessThan(300);

    const expected = await lifecycleAfter(start);
    expect(expected.map((e) => e.type)).toEqual(expect.arrayContaining(['ModelCreated', 'ModelVersionRegistered', 'StageTransitionRequested', 'StageTransitioned']));
    const received = await stream.through((expected.at(-1) as RecordedEvent).position);
    expect(received.map((m) => m.id)).toEqual(expected.map((e) => String(e.position)));
    expect(received.map((m) => m.event)).toEqual(expected.map((e) => e.type));
    expect(received.some((m) => m.data.model === 'earlier')).toBe(false);

    await projectionsCaughtUp(registry);
    const audit = await registry.http('GET', `/api/v1/audit?model=churn&after=${start}`);
    expect(received.map((m) => m.data)).toEqual(audit.body.items);
    expect(received.find((m) => m.event === 'ModelVersionRegistered')?.data).toMatchObject({
      stream: 'modelVersion-churn@1',
      model: 'churn',
      version: 1,
      actor: { kind: 'user', id: 'admin' },
    });
  });

  it('resumes after Last-Event-ID (header, or lastEventId where no header can be set) with exactly the later events', async () => {
    const history = await lifecycleAfter(0n, 'churn');
    expect(history.length).toBeGreaterThan(4);
    const from = history[1] as RecordedEvent;
    const byHeader = await open('?model=churn', { headers: { 'last-event-id': String(from.position) } });
    const byQuery = await open(`?model=churn&lastEventId=${from.position}`);
    // When both are given the header wins: it is what an EventSource sends on reconnecting.
    const both = await open(`?model=churn&lastEventId=0`, { headers: { 'last-event-id': String(from.position) } });

    // One more event after they opened: anything sent twice would come before it.
    expect((await registry.http('PUT', '/api/v1/models/churn/tags/team', { body: { value: 'growth' } })).status).toBeLessThan(300);
    const later = (await lifecycleAfter(from.position, 'churn')).map((e) => String(e.position));
    expect(later.length).toBe(history.length - 1);
    for (const stream of [byHeader, byQuery, both]) {
      const received = await stream.through(BigInt(later.at(-1) as string));
      expect(received.map((m) => m.id)).toEqual(later);
    }
  });

  it('gives one model its own events only (`model=`), and a scoped token only its models', async () => {
    const start = await head();
    const scoped = await registry.token('scoped-viewer', ['viewer'], ['alpha']);
    const filtered = await open('?model=alpha');
    const byScope = await open('', { token: scoped });
    const everything = await open();
    const outOfScope = await RawStream.open(registry, '?model=beta', { token: scoped });
    expect(outOfScope.response.status).toBe(403);
    expect(await outOfScope.response.json()).toMatchObject({ code: 'MODEL_OUT_OF_SCOPE' });

    // `alpha2` and `alpha` share a prefix: the filter must not confuse them.
    for (const name of ['alpha2', 'beta', 'alpha']) {
      await registry.http('POST', '/api/v1/models', { body: { name } });
      await registry.http('POST', `/api/v1/models/${name}/versions`, { body: { source: `https://models.example.com/${name}.onnx` } });
    }
    const all = await lifecycleAfter(start);
    const alpha = all.filter(ofModel('alpha')).map((e) => String(e.position));
    await everything.through((all.at(-1) as RecordedEvent).position);
    expect(everything.messages.map((m) => m.id)).toEqual(all.map((e) => String(e.position)));
    for (const stream of [filtered, byScope]) {
      const received = await stream.through(BigInt(alpha.at(-1) as string));
      expect(received.map((m) => m.id)).toEqual(alpha);
      expect(new Set(received.map((m) => m.data.model))).toEqual(new Set(['alpha']));
    }
  });

  it('never sends private or non-lifecycle streams, and shows sealed secrets as [encrypted]', async () => {
    const stream = await open();
    const hook = 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX';
    await registry.token('someone', ['viewer']);
    for (const private_ of ['webhook-w1', 'person-someone', 'decisionLink-n1', 'deploymentRun-d1', 'tokenCredential-t1', 'evaluationSet-s1', 'deadLetter-x']) {
      await store.appendToStream(private_, [testEvent('SomethingPrivate', { secret: 'do-not-show' })], { expectedRevision: 'any' });
    }
    const policy = await registry.http('PUT', '/api/v1/models/churn/policy', {
      body: { approval: { Production: { required: 1, reviewers: ['role:reviewer'], expiresIn: 'P3D', notify: [{ kind: 'slack', webhookUrl: hook }] } } },
    });
    expect(policy.status).toBe(200);
    const sealed = (await store.readStream('model-churn')).filter((e) => e.type === 'ModelPolicySet').at(-1) as RecordedEvent;
    expect(JSON.stringify(sealed.data)).toContain('enc:v1:');

    const received = await stream.through(sealed.position);
    expect(received.map((m) => m.data.stream)).toEqual(['model-churn']);
    const text = JSON.stringify(received);
    expect(text).not.toContain('XXXXXXXXXXXXXXXXXXXXXXXX');
    expect(text).not.toContain('enc:v1:');
    expect(received[0]?.data.data.policy.approval.Production.notify[0]).toEqual({ kind: 'slack', webhookUrl: '[encrypted]' });
    // The audit search shows the same entry, sealed value included.
    await projectionsCaughtUp(registry);
    const audit = await registry.http('GET', `/api/v1/audit?model=churn&type=ModelPolicySet&after=${sealed.position - 1n}`);
    expect(audit.body.items).toEqual([received[0]?.data]);
  });

  it.each([
    ['no token', '', null, {}, 401, 'UNAUTHENTICATED'],
    ['an unknown token', '', 'mrw_not-a-token', {}, 401, 'UNAUTHENTICATED'],
    ['a model name that cannot be one', '?model=-bad%20name', undefined, {}, 400, 'VALIDATION_FAILED'],
    ['a Last-Event-ID that is no position', '', undefined, { 'last-event-id': '12abc' }, 400, 'VALIDATION_FAILED'],
    ['a lastEventId that is no position', '?lastEventId=-1', undefined, {}, 400, 'VALIDATION_FAILED'],
  ])('refuses %s with a problem document', async (_, query, token, headers, status, code) => {
    const stream = await RawStream.open(registry, query, { token: token as string | null | undefined, headers });
    expect(stream.response.status).toBe(status);
    expect(stream.response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await stream.response.json()).toMatchObject({ status, code });
  });

  it('is documented as text/event-stream, with its Last-Event-ID header and its 429', async () => {
    const document = (await registry.http('GET', '/api/docs/openapi.json', { token: null })).body;
    const operation = document.paths['/api/v1/events/stream'].get;
    expect(Object.keys(operation.responses['200'].content)).toEqual(['text/event-stream']);
    expect(operation.responses['429'].content['application/problem+json']).toBeDefined();
    expect(operation.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`).sort()).toEqual(['header:Last-Event-ID', 'query:lastEventId', 'query:model']);
  });

  it('sends a heartbeat comment while nothing happens', async () => {
    const stream = await open();
    await stream.until(() => stream.comments.filter((c) => c === 'heartbeat').length >= 2, 'two heartbeats');
    expect(stream.messages).toEqual([]);
    expect(stream.comments[0]).toMatch(/^events after position \d+$/);
  });

  it("stops a client's subscription when the client disconnects", async () => {
    const before = opened.length;
    const stream = await open();
    await waitFor(() => opened.length > before && opened.at(-1)?.subscription.status().state === 'live', 5_000, 'the stream subscribed');
    const { subscription, options } = opened.at(-1) as (typeof opened)[number];
    expect(options.name).toMatch(/^event-stream-/);
    expect(registry.app.get(LiveEventStreams).open).toBe(1);

    stream.close();
    await waitFor(() => subscription.status().state === 'stopped', 5_000, 'the subscription stopped');
    await waitFor(() => registry.app.get(LiveEventStreams).open === 0, 5_000, 'the stream released');
  });

  it('ends the stream of a token revoked meanwhile', async () => {
    const token = await registry.token('leaving', ['viewer']);
    const id = (await registry.http('GET', '/api/v1/tokens')).body.items.find((t: { subject: string }) => t.subject === 'leaving').id as string;
    const stream = await open('', { token });
    await stream.until(() => stream.comments.includes('heartbeat'), 'a heartbeat');
    expect((await registry.http('DELETE', `/api/v1/tokens/${id}`)).status).toBeLessThan(300);
    await stream.ending;
    expect(stream.ended).toBe(true);
    expect(stream.messages).toEqual([]);
  });
});

describe('GET /api/v1/events/stream at its cap', () => {
  it('answers 429 with Retry-After beyond MRW_EVENT_STREAMS_MAX, and serves again once a stream ends', async () => {
    const registry = await startRegistry({ env: { MRW_EVENT_STREAMS_MAX: '2' } });
    const streams: RawStream[] = [];
    try {
      streams.push(await RawStream.open(registry), await RawStream.open(registry));
      expect(streams.map((s) => s.response.status)).toEqual([200, 200]);
      const refused = await RawStream.open(registry);
      expect(refused.response.status).toBe(429);
      expect(refused.response.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await refused.response.json()).toMatchObject({ status: 429, code: 'TOO_MANY_EVENT_STREAMS' });

      streams[0]?.close();
      await waitFor(() => registry.app.get(LiveEventStreams).open < 2, 5_000, 'a place freed');
      const again = await RawStream.open(registry);
      streams.push(again);
      expect(again.response.status).toBe(200);
    } finally {
      streams.forEach((s) => s.close());
      await registry.close();
    }
  });

  it('ends the open streams when the registry shuts down, so it can stop', async () => {
    const registry = await startRegistry();
    const stream = await RawStream.open(registry);
    expect(stream.response.status).toBe(200);
    await registry.close();
    await stream.ending;
    expect(stream.ended).toBe(true);
  });
});
