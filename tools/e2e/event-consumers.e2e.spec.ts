import { join } from 'node:path';
import Database from 'better-sqlite3';
import { EvaluatorModule } from '@mrw/evaluator';
import { eventually } from '@mrw/messaging/testing';
import { startRegistry, type RegistryHarness } from '@mrw/registry/testing';

/**
 * A service's consumer group sees every published event; its inbox (the record of what it
 * handled, for deduplication) is written only for the events it has a handler for: the others
 * have no effect to deduplicate, and in embedded mode each write was a commit of its own.
 */
describe('event consumers', () => {
  let suite: RegistryHarness;

  beforeAll(async () => {
    suite = await startRegistry({ modules: [EvaluatorModule] });
  });

  afterAll(async () => {
    await suite?.close();
  });

  it('records in its inbox only the events the service handles, and counts the others as ignored', async () => {
    await suite.http('POST', '/api/v1/models', { body: { name: 'consumed' } });
    await suite.http('PUT', '/api/v1/models/consumed/policy', { body: { evaluation: { set: 'missing-set', thresholds: { accuracy: { threshold: 0.5 } } } } });
    await suite.http('POST', '/api/v1/models/consumed/versions', { body: { source: 'https://models.example.com/consumed/1.onnx' } });
    await suite.http('POST', '/api/v1/models/consumed/versions/1/transitions', { body: { toStage: 'Staging' } });
    // The evaluator handles EvaluationRequested (and fails it: the set does not exist).
    await eventually(async () => (await suite.http('GET', '/api/v1/models/consumed/versions/1')).body.evaluations?.[0]?.status === 'failed' || undefined, {
      what: 'the evaluation handled',
    });
    const metrics = await eventually(
      async () => {
        const text = String((await suite.http('GET', '/metrics', { token: null })).body);
        return /mrw_consumer_messages_total\{group="mrw-evaluator",type="ModelVersionRegistered",outcome="ignored"\} 1/.test(text) ? text : undefined;
      },
      { what: 'the evaluator ignoring the registration' },
    );
    expect(metrics).toMatch(/mrw_consumer_messages_total\{group="mrw-evaluator",type="EvaluationRequested",outcome="handled"\} 1/);
    const inbox = new Database(join(suite.dataDir, 'evaluator-inbox.sqlite'), { readonly: true });
    try {
      expect(inbox.prepare('SELECT type FROM handled ORDER BY type').all()).toEqual([{ type: 'EvaluationRequested' }]);
    } finally {
      inbox.close();
    }
  });
});
