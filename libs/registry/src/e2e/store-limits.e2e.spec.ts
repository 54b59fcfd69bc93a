import { randomUUID } from 'node:crypto';
import { EVENT_STORE, MAX_APPEND_BYTES, type EventStore } from '@mrw/event-store';
import { deadLetterStream } from '@mrw/messaging';
import { Metrics, RegistryCommands } from '@mrw/platform';
import { startRegistry, type RegistryHarness } from '../testing/registry-harness';

/**
 * Input the event store cannot hold is a refusal, not a fault: a service's command whose
 * events would be too large or too deep is answered like any rule's refusal (counted,
 * committed, nothing appended) instead of being retried into the dead-letter queue.
 */
describe('event-store limits', () => {
  let registry: RegistryHarness;

  beforeAll(async () => {
    registry = await startRegistry();
    await registry.http('POST', '/api/v1/models', { body: { name: 'scored' } });
    await registry.http('PUT', '/api/v1/models/scored/policy', {
      body: { evaluation: { set: 'holdout', thresholds: { accuracy: { threshold: 0.8 } } } },
    });
  });

  /** A fresh version in Staging, whose evaluation is running: a result for it would be recorded. */
  const awaitingResult = async (): Promise<{ version: number; evaluationId: string }> => {
    const registered = await registry.http('POST', '/api/v1/models/scored/versions', { body: { source: 'https://models.example.com/s.onnx' } });
    const version = registered.body.version as number;
    const staged = await registry.http('POST', `/api/v1/models/scored/versions/${version}/transitions`, { body: { toStage: 'Staging' } });
    return { version, evaluationId: staged.body.request.evaluationId as string };
  };

  afterAll(async () => {
    await registry.close();
  });

  const store = (): EventStore => registry.app.get<EventStore>(EVENT_STORE);

  const refusedCount = async (): Promise<number> => {
    const metric = await registry.app.get(Metrics).messagesConsumed.get();
    return metric.values
      .filter((v) => v.labels['type'] === 'RecordEvaluationResult' && v.labels['outcome'] === 'refused')
      .reduce((sum, v) => sum + v.value, 0);
  };

  const sendResult = ({ version, evaluationId }: { version: number; evaluationId: string }, data: Record<string, unknown>) =>
    registry.app.get(RegistryCommands).send('evaluator', {
      commandId: randomUUID(),
      type: 'RecordEvaluationResult',
      model: 'scored',
      version,
      data: {
        evaluationId,
        set: { name: 'holdout', digest: `sha256:${'c'.repeat(64)}` },
        metrics: { accuracy: 0.91 },
        comparison: null,
        verdict: { passed: true, checks: [] },
        ...data,
      },
      correlationId: randomUUID(),
      causationId: null,
    });

  it('records an ordinary result (the control case)', async () => {
    const target = await awaitingResult();
    const head = await store().headPosition();
    await sendResult(target, {});
    expect(await store().headPosition()).toBeGreaterThan(head);
  });

  it.each([
    ['events larger than the store takes', () => ({ metrics: { accuracy: 0.91, blob: 'x'.repeat(MAX_APPEND_BYTES) } })],
    ['data nested 1,100 levels deep (beyond SQLite JSON)', () => {
      let deep: unknown = 1;
      for (let i = 0; i < 1_100; i += 1) deep = { deeper: deep };
      return { comparison: deep };
    }],
  ])('refuses a result with %s: nothing appended, nothing dead-lettered', async (_, data) => {
    const target = await awaitingResult();
    const head = await store().headPosition();
    const refused = await refusedCount();
    await sendResult(target, data());
    expect(await refusedCount()).toBe(refused + 1);
    expect(await store().headPosition()).toBe(head);
    expect(await store().readStream(deadLetterStream('mrw-registry'))).toEqual([]);
  });
});
