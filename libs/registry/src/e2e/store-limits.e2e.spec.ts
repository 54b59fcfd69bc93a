import { randomUUID } from 'node:crypto';
import { EVENT_STORE, MAX_APPEND_BYTES, type EventStore } from '@mrw/event-store';
import { deadLetterStream, MAX_DEAD_LETTER_VALUE } from '@mrw/messaging';
import { RegistryCommands } from '@mrw/platform';
import { startRegistry, type RegistryHarness } from '../testing/registry-harness';

/**
 * Input the event store cannot hold is a refusal, not a fault: a service's command whose
 * events would be too large or too deep is dead-lettered at once with the reason, like any
 * rule's refusal, instead of being retried; nothing is appended to the version.
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
    ['events larger than the store takes', 'EVENT_TOO_LARGE', () => ({ metrics: { accuracy: 0.91, blob: 'x'.repeat(MAX_APPEND_BYTES) } })],
    ['data nested 1,100 levels deep (beyond SQLite JSON)', 'EVENT_TOO_LARGE', () => {
      let deep: unknown = 1;
      for (let i = 0; i < 1_100; i += 1) deep = { deeper: deep };
      return { comparison: deep };
    }],
  ])('refuses a result with %s: nothing appended to the version, dead-lettered at once with the reason', async (_, code, data) => {
    const target = await awaitingResult();
    const stream = `modelVersion-scored@${target.version}`;
    const revision = (await store().readStream(stream)).length;
    const lettersBefore = (await store().readStream(deadLetterStream('mrw-registry'))).length;
    await sendResult(target, data());
    expect(await store().readStream(stream)).toHaveLength(revision);
    const letters = await store().readStream(deadLetterStream('mrw-registry'));
    expect(letters).toHaveLength(lettersBefore + 1);
    const letter = letters[letters.length - 1]!.data as { reason: string; attempts: number; value: string; truncated: boolean; size: number };
    expect(letter.reason).toContain(code);
    // Refused, so not retried; and a value too large to keep is kept cut, never failing the dead letter itself.
    expect(letter.attempts).toBe(1);
    expect(letter.value.length).toBeLessThanOrEqual(MAX_DEAD_LETTER_VALUE);
    expect(letter.truncated).toBe(letter.size > MAX_DEAD_LETTER_VALUE);
  });
});
