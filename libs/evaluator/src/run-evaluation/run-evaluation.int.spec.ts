import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artifactUri, ContentAddressedStore } from '@mrw/artifacts';
import type { CommandMessage, EvaluationRequested } from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';
import type { OutboundHttp } from '@mrw/outbound';
import { Metrics, type RegistryCommands, type SuiteConfig } from '@mrw/platform';
import type { EvaluationSetCatalog } from '../evaluation-sets/evaluation-set-catalog';
import { RunEvaluation } from './run-evaluation';

const MISSING = `sha256:${'e'.repeat(64)}`;

const requested = (data: Partial<EvaluationRequested['data']>): RecordedEvent => ({
  streamName: 'modelVersion-churn@7',
  revision: 3,
  position: 4n,
  type: 'EvaluationRequested',
  data: { evaluationId: 'eval-1', set: { name: 'holdout', digest: null }, championVersion: null, reason: 'entered-staging', ...data },
  metadata: {
    eventId: '00000000-0000-4000-8000-000000000004',
    occurredAt: '2026-11-30T10:00:00.000Z',
    actor: { kind: 'user', id: 'bob' },
    correlationId: '00000000-0000-4000-8000-0000000000c0',
    causationId: null,
    schemaVersion: 1,
    prevHash: null,
    hash: 'h'.repeat(64),
  },
});

/**
 * The evaluator takes the models to score from the request itself: there is no event store
 * to read (the constructor takes none), and a request that does not name them is answered,
 * not guessed at.
 */
describe('running an evaluation from what the request carries', () => {
  let dir: string;
  let store: ContentAddressedStore;
  let sent: CommandMessage[];
  let resolved: string[];
  let evaluation: RunEvaluation;
  let metrics: Metrics;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mrw-run-evaluation-'));
    store = new ContentAddressedStore(join(dir, 'artifacts'));
    sent = [];
    resolved = [];
    const commands = { send: async (_service: string, command: CommandMessage) => void sent.push(command) } as unknown as RegistryCommands;
    // The set is never scored here: every case ends at loading the models.
    const sets = {
      resolve: async (name: string) => {
        resolved.push(name);
        return { version: { digest: `sha256:${'5'.repeat(64)}` }, set: { rows: 3 } };
      },
    } as unknown as EvaluationSetCatalog;
    const config = { allowFileSources: false, fileSourceRoots: [], maxArtifactBytes: 1024, evaluatorThreads: 1, crashAt: undefined } as unknown as SuiteConfig;
    metrics = new Metrics();
    evaluation = new RunEvaluation(store, config, sets, commands, {} as OutboundHttp, metrics);
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("fetches the candidate named in the event, by the event's digest", async () => {
    await evaluation.run(requested({ candidate: { source: artifactUri(MISSING), digest: MISSING }, champion: null }));
    expect(sent).toEqual([
      expect.objectContaining({
        type: 'RecordEvaluationFailure',
        model: 'churn',
        version: 7,
        data: expect.objectContaining({ evaluationId: 'eval-1', code: 'ARTIFACT_MISSING', reason: expect.stringContaining(MISSING) }),
      }),
    ]);
    // The work is timed whatever its outcome: what the workflow-overhead benchmark subtracts.
    const timed = (await metrics.evaluationWork.get()).values.find((v) => v.metricName === 'mrw_evaluation_work_seconds_count');
    expect(timed).toMatchObject({ labels: { outcome: 'failed' }, value: 1 });
  });

  it("fetches the champion named in the event once the candidate's file is there", async () => {
    const file = join(dir, 'candidate.onnx');
    await writeFile(file, 'candidate bytes');
    const candidate = await store.importFile(file);
    await evaluation.run(
      requested({
        candidate: { source: artifactUri(candidate.digest), digest: candidate.digest },
        championVersion: 5,
        champion: { version: 5, source: artifactUri(MISSING), digest: MISSING },
      }),
    );
    expect(sent).toEqual([
      expect.objectContaining({
        type: 'RecordEvaluationFailure',
        data: expect.objectContaining({ code: 'ARTIFACT_MISSING', reason: expect.stringContaining(MISSING) }),
      }),
    ]);
  });

  it('answers a request stored before events named the models with REQUEST_WITHOUT_ARTIFACTS, reading nothing', async () => {
    await evaluation.run(requested({ championVersion: 5 }));
    expect(resolved).toEqual([]);
    expect(sent).toEqual([
      expect.objectContaining({
        type: 'RecordEvaluationFailure',
        data: expect.objectContaining({
          evaluationId: 'eval-1',
          code: 'REQUEST_WITHOUT_ARTIFACTS',
          reason: expect.stringContaining('move the version to Staging again'),
        }),
      }),
    ]);
  });
});
