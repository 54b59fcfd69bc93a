import { randomUUID } from 'node:crypto';
import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import { deadLetterStream } from '@mrw/messaging';
import { RegistryCommands } from '@mrw/platform';
import { startRegistry, type RegistryHarness } from '../testing/registry-harness';

/** Embedded mode: a service's command travels the in-process bus and becomes an audited event. */
describe('service commands in embedded mode', () => {
  let registry: RegistryHarness;

  beforeAll(async () => {
    registry = await startRegistry();
    await registry.http('POST', '/api/v1/models', { body: { name: 'scored' } });
    await registry.http('PUT', '/api/v1/models/scored/policy', {
      body: { evaluation: { set: 'holdout', thresholds: { accuracy: { threshold: 0.8 } } } },
    });
    await registry.http('POST', '/api/v1/models/scored/versions', { body: { source: 'https://models.example.com/s.onnx' } });
    await registry.http('POST', '/api/v1/models/scored/versions', { body: { source: 'https://models.example.com/t.onnx' } });
  });

  afterAll(async () => {
    await registry.close();
  });

  it("records the evaluator's result as the evaluator, once, and the gates then open an approval", async () => {
    const staged = await registry.http('POST', '/api/v1/models/scored/versions/1/transitions', { body: { toStage: 'Staging' } });
    const evaluationId = staged.body.request.evaluationId as string;
    const commands = registry.app.get(RegistryCommands);
    const result = {
      commandId: randomUUID(),
      type: 'RecordEvaluationResult',
      model: 'scored',
      version: 1,
      data: {
        evaluationId,
        set: { name: 'holdout', digest: `sha256:${'c'.repeat(64)}` },
        metrics: { accuracy: 0.91 },
        comparison: null,
      },
      correlationId: randomUUID(),
      causationId: null,
    };
    await commands.send('evaluator', result);
    await commands.send('evaluator', result);

    const audit = await registry.http('GET', '/api/v1/models/scored/versions/1/audit');
    const completed = audit.body.events.filter((e: { type: string }) => e.type === 'EvaluationCompleted');
    expect(completed).toHaveLength(1);
    expect(completed[0].actor).toEqual({ kind: 'service', id: 'evaluator' });

    const production = await registry.http('POST', '/api/v1/models/scored/versions/1/transitions', {
      body: { toStage: 'Production' },
    });
    expect(production.body.request).toMatchObject({ status: 'awaiting-approval', approvalId: expect.any(String) });
    expect(production.body.request.checks).toEqual(
      expect.arrayContaining([expect.objectContaining({ metric: 'accuracy', rule: 'threshold', passed: true, value: 0.91 })]),
    );
  });

  it("judges the measurements itself and ignores a verdict sent by an older evaluator", async () => {
    const staged = await registry.http('POST', '/api/v1/models/scored/versions/2/transitions', { body: { toStage: 'Staging' } });
    expect(staged.body.request.evaluationId).toEqual(expect.any(String));
    await registry.app.get(RegistryCommands).send('evaluator', {
      commandId: randomUUID(),
      type: 'RecordEvaluationResult',
      model: 'scored',
      version: 2,
      data: {
        evaluationId: staged.body.request.evaluationId,
        set: { name: 'holdout', digest: `sha256:${'c'.repeat(64)}` },
        metrics: { accuracy: 0.62 },
        comparison: null,
        verdict: { passed: true, checks: [] },
      },
      correlationId: randomUUID(),
      causationId: null,
    });
    const version = await registry.http('GET', '/api/v1/models/scored/versions/2');
    const evaluation = version.body.evaluations[version.body.evaluations.length - 1];
    expect(evaluation).toMatchObject({ status: 'completed', metrics: { accuracy: 0.62 } });
    expect(evaluation.verdict).toEqual({
      passed: false,
      checks: [expect.objectContaining({ metric: 'accuracy', rule: 'threshold', passed: false, value: 0.62, expected: 0.8 })],
    });
  });

  it('refuses a command a service may not send, and appends nothing', async () => {
    const before = await registry.http('GET', '/api/v1/models/scored/versions/1/audit');
    await registry.app.get(RegistryCommands).send('archival', {
      commandId: randomUUID(),
      type: 'RecordEvaluationProgress',
      model: 'scored',
      version: 1,
      data: { evaluationId: 'x', rowsDone: 1, rowsTotal: 2 },
      correlationId: randomUUID(),
      causationId: null,
    });
    const after = await registry.http('GET', '/api/v1/models/scored/versions/1/audit');
    expect(after.body.events).toHaveLength(before.body.events.length);
    const letters = await registry.app.get<EventStore>(EVENT_STORE).readStream(deadLetterStream('mrw-registry'));
    expect(letters.map((l) => (l.data as { reason: string }).reason)).toEqual([
      'PoisonMessageError: archival may not send RecordEvaluationProgress',
    ]);
  });
});
