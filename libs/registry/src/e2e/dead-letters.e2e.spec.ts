import { randomUUID } from 'node:crypto';
import { deriveId } from '@mrw/contracts';
import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import { RegistryCommands } from '@mrw/platform';
import { startRegistry, type RegistryHarness } from '../testing/registry-harness';

/**
 * Embedded mode: a command the rules refuse is dead-lettered with its reason; an admin lists
 * it, fixes the cause, and redrives it, and the redrive is recorded once.
 */
describe('dead letters: listed, redriven once the cause is fixed', () => {
  let registry: RegistryHarness;
  let store: EventStore;

  beforeAll(async () => {
    registry = await startRegistry();
    store = registry.app.get<EventStore>(EVENT_STORE);
    await registry.http('POST', '/api/v1/models', { body: { name: 'late' } });
  });

  afterAll(async () => {
    await registry.close();
  });

  const progress = (version: number, evaluationId: string) => ({
    commandId: randomUUID(),
    type: 'RecordEvaluationProgress',
    model: 'late',
    version,
    data: { evaluationId, rowsDone: 10, rowsTotal: 20 },
    correlationId: randomUUID(),
    causationId: null,
  });

  it('lists a refused command with its reason, refuses non-admins, and redrives it after the cause is fixed', async () => {
    await registry.http('PUT', '/api/v1/models/late/policy', { body: { evaluation: { set: 'holdout' } } });
    // The evaluator reports on version 1 before it exists: the registry refuses it.
    const command = progress(1, 'e-early');
    await registry.app.get(RegistryCommands).send('evaluator', command);

    const open = await registry.http('GET', '/api/v1/dead-letters');
    expect(open.status).toBe(200);
    expect(open.body.items).toEqual([
      expect.objectContaining({ group: 'mrw-registry', topic: 'mrw.registry.commands.v1', type: 'RecordEvaluationProgress', attempts: 1, truncated: false, redrivenAt: null }),
    ]);
    const letter = open.body.items[0];
    expect(letter.reason).toMatch(/^PoisonMessageError: refused: VERSION_NOT_FOUND/);
    const detail = await registry.http('GET', `/api/v1/dead-letters/${letter.id}`);
    expect(JSON.parse(detail.body.value)).toMatchObject({ commandId: command.commandId, type: 'RecordEvaluationProgress' });

    const viewer = await registry.token('vic', ['viewer']);
    expect((await registry.http('GET', '/api/v1/dead-letters', { token: viewer })).status).toBe(403);
    expect((await registry.http('POST', `/api/v1/dead-letters/${letter.id}/redrive`, { token: viewer })).status).toBe(403);
    const audit = await registry.http('GET', '/api/v1/audit?limit=1000');
    expect(audit.body.items.some((e: { stream: string }) => e.stream.startsWith('deadLetter-'))).toBe(false);

    // The cause is fixed: version 1 exists and is being evaluated under that evaluation id… of its own.
    await registry.http('POST', '/api/v1/models/late/versions', { body: { source: 'https://models.example.com/late.onnx' } });
    const staged = await registry.http('POST', '/api/v1/models/late/versions/1/transitions', { body: { toStage: 'Staging' } });
    expect(staged.status).toBe(202);
    // Redriving the original, still-wrong evaluation id is refused again and becomes a new letter.
    const redriven = await registry.http('POST', `/api/v1/dead-letters/${letter.id}/redrive`);
    expect(redriven.status).toBe(202);
    expect(redriven.body).toMatchObject({ id: letter.id, redrivenBy: 'user:admin', redrivenAt: expect.any(String) });
    const again = await registry.http('POST', `/api/v1/dead-letters/${letter.id}/redrive`);
    expect(again.body).toMatchObject({ status: 409, code: 'DEAD_LETTER_ALREADY_REDRIVEN' });
    const now = await registry.http('GET', '/api/v1/dead-letters?status=all');
    expect(now.body.total).toBe(2);
    expect(now.body.items[1].reason).toMatch(/refused/);
    expect(now.body.items[1].id).not.toBe(letter.id);
  });

  it('redrives a letter whose cause is fixed into an audited event, once', async () => {
    // The evaluation version 2 will get when it enters Staging with this Idempotency-Key.
    const transitionId = deriveId('user:admin|POST /api/v1/models/late/versions/2/transitions', 'stage-v2');
    const evaluationId = deriveId(transitionId, 'evaluation');
    // The evaluator's progress arrives before the version exists (say, a registry restored from a backup): refused.
    const command = { ...progress(2, evaluationId), data: { evaluationId, rowsDone: 5, rowsTotal: 50 } };
    await registry.app.get(RegistryCommands).send('evaluator', command);
    const letters = await registry.http('GET', '/api/v1/dead-letters');
    const letter = letters.body.items.find((l: { key: string }) => l.key === 'modelVersion-late@2');
    expect(letter.reason).toMatch(/refused: VERSION_NOT_FOUND/);

    // The cause goes away: version 2 is registered and its evaluation starts.
    await registry.http('POST', '/api/v1/models/late/versions', { body: { source: 'https://models.example.com/late2.onnx' } });
    const staged = await registry.http('POST', '/api/v1/models/late/versions/2/transitions', {
      body: { toStage: 'Staging' },
      headers: { 'idempotency-key': 'stage-v2' },
    });
    expect(staged.body.request.evaluationId).toBe(evaluationId);

    const redriven = await registry.http('POST', `/api/v1/dead-letters/${letter.id}/redrive`);
    expect(redriven.status).toBe(202);
    const version = await registry.http('GET', '/api/v1/models/late/versions/2');
    expect(version.body.evaluations[0].progress).toEqual({ rowsDone: 5, rowsTotal: 50 });
    const progressed = (await store.readStream('modelVersion-late@2')).filter((e) => e.type === 'EvaluationProgressed');
    expect(progressed).toHaveLength(1);
    expect(progressed[0]!.metadata.actor).toEqual({ kind: 'service', id: 'evaluator' });
    const open = await registry.http('GET', '/api/v1/dead-letters');
    expect(open.body.items.map((l: { id: string }) => l.id)).not.toContain(letter.id);
  });
});
