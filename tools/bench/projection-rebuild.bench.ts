import { join } from 'node:path';
import { deriveId, modelStream, modelVersionStream, type Actor } from '@mrw/contracts';
import { SqliteEventStore, type EventToAppend } from '@mrw/event-store';
import { Readiness } from '@mrw/platform';
import { openReadModel, RegistryProjector } from '@mrw/registry';
import { line, rate, section } from './report';

const actor: Actor = { kind: 'user', id: 'bench' };

const envelope = (seed: string, i: number, type: string, data: unknown): EventToAppend => ({
  type,
  data,
  metadata: {
    eventId: deriveId(seed, String(i)),
    occurredAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
    actor,
    correlationId: deriveId(seed, 'c'),
    causationId: null,
    schemaVersion: 1,
  },
});

/** A realistic log: models, version reservations, registrations, tags, transitions, evaluations. */
const seed = async (store: SqliteEventStore, models: number, versionsPerModel: number): Promise<number> => {
  let count = 0;
  for (let m = 0; m < models; m += 1) {
    const model = `model-${m}`;
    const modelEvents = [envelope(model, 0, 'ModelCreated', { model, description: `bench model ${m}`, tags: { team: `t${m % 7}` } })];
    for (let v = 1; v <= versionsPerModel; v += 1) {
      modelEvents.push(envelope(model, v, 'ModelVersionNumberReserved', { model, version: v, commandId: deriveId(model, `r${v}`) }));
    }
    await store.appendToStream(modelStream(model), modelEvents, { expectedRevision: 'no_stream' });
    count += modelEvents.length;
    for (let v = 1; v <= versionsPerModel; v += 1) {
      const s = `${model}@${v}`;
      const evaluationId = deriveId(s, 'evaluation');
      const events = [
        envelope(s, 0, 'ModelVersionRegistered', {
          model, version: v, source: `https://models.example.com/${model}/${v}.onnx`, artifactDigest: null,
          runId: null, metrics: { val_auc: 0.9 }, tags: {}, description: '', registeredBy: actor,
        }),
        envelope(s, 1, 'ModelVersionTagSet', { key: 'framework', value: 'sklearn' }),
        envelope(s, 2, 'ModelVersionTagSet', { key: 'validated', value: 'yes' }),
        envelope(s, 3, 'StageTransitionRequested', { requestId: deriveId(s, 'r'), fromStage: 'None', toStage: 'Staging', comment: '', requestedBy: actor }),
        envelope(s, 4, 'StageTransitioned', { fromStage: 'None', toStage: 'Staging', trigger: { kind: 'request', requestId: deriveId(s, 'r') } }),
        envelope(s, 5, 'EvaluationRequested', { evaluationId, set: { name: 'holdout', digest: null }, championVersion: null, reason: 'entered-staging' }),
        envelope(s, 6, 'EvaluationProgressed', { evaluationId, rowsDone: 5000, rowsTotal: 10000 }),
        envelope(s, 7, 'EvaluationCompleted', {
          evaluationId, set: { name: 'holdout', digest: `sha256:${'a'.repeat(64)}` }, metrics: { accuracy: 0.91, f1: 0.88 },
          comparison: null, verdict: { passed: true, checks: [] },
        }),
        envelope(s, 8, 'StageTransitionRequested', { requestId: deriveId(s, 'a'), fromStage: 'Staging', toStage: 'Archived', comment: '', requestedBy: actor }),
        envelope(s, 9, 'StageTransitioned', { fromStage: 'Staging', toStage: 'Archived', trigger: { kind: 'request', requestId: deriveId(s, 'a') } }),
      ];
      await store.appendToStream(modelVersionStream(model, v), events, { expectedRevision: 'no_stream' });
      count += events.length;
    }
  }
  return count;
};

/** Time to build the catalog and audit index from scratch out of a 100k-event log. */
export const benchProjectionRebuild = async (dir: string): Promise<void> => {
  section('Projection rebuild (catalog + stage board + audit index from an empty read model)');
  const store = new SqliteEventStore({ file: join(dir, 'rebuild-events.sqlite'), synchronous: 'NORMAL' });
  const seeded = performance.now();
  const count = await seed(store, 200, 50);
  line(`log seeded with`, `${count.toLocaleString('en-US')} events in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);
  const projector = new RegistryProjector(store, openReadModel(join(dir, 'rebuild-read-model.sqlite')), new Readiness());
  const start = performance.now();
  projector.onApplicationBootstrap();
  await projector.caughtUp();
  const elapsed = performance.now() - start;
  line(`rebuild ${count.toLocaleString('en-US')} events`, `${(elapsed / 1000).toFixed(2)} s (${rate(count, elapsed, 'events')})`);
  await projector.onApplicationShutdown();
  await store.close();
};
