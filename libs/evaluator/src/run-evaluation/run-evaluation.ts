import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  deriveId,
  modelStream,
  modelVersionStream,
  parseModelVersionStream,
  type CommandMessage,
  type EvaluationDetails,
  type EvaluationRequested,
  type ModelEvent,
  type ModelVersionEvent,
} from '@mrw/contracts';
import { ArtifactError, fetchArtifact, type ContentAddressedStore } from '@mrw/artifacts';
import { checkThresholds, foldModel, foldModelVersion, verdictOf, type Timed } from '@mrw/domain';
import { compareModels, computeMetrics, toComparison, type EvaluationResult } from '@mrw/evaluation';
import { EVENT_STORE, type EventStore, type RecordedEvent } from '@mrw/event-store';
import { RegistryCommands, SUITE_CONFIG, type SuiteConfig } from '@mrw/platform';
import { EvaluationSetCatalog } from '../evaluation-sets/evaluation-set-catalog';
import { EvaluationSetError, type LoadedEvaluationSet } from '../evaluation-sets/evaluation-set';
import { ModelRunError, OnnxModelRunner, type ModelOutputs } from '../run-model/onnx-model-runner';

export const MODEL_ARTIFACTS = Symbol('MODEL_ARTIFACTS');

const PROGRESS_EVERY_MS = 2_000;

const timed = <E>(events: RecordedEvent[]): Array<Timed<E>> =>
  events.map((e) => ({ type: e.type, data: e.data, at: e.metadata.occurredAt }) as unknown as Timed<E>);

/** JSON has no NaN: undefined metrics are left out of `metrics` and explained in `details`. */
const finite = (metrics: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(metrics).filter(([, v]) => Number.isFinite(v)));

/**
 * One evaluation: the candidate and the serving champion scored on the same immutable set
 * version, every metric computed, the two compared with a paired bootstrap (and McNemar for
 * classifiers), the model's thresholds checked, and the result sent to the registry. A failure
 * the inputs explain (corrupt model, digest mismatch, mismatched features…) is sent as such;
 * anything else throws, so the event is delivered again and the run repeated, and the
 * registry records one result because the command id derives from the evaluation id.
 */
@Injectable()
export class RunEvaluation {
  private readonly logger = new Logger('evaluator');

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(MODEL_ARTIFACTS) private readonly artifacts: ContentAddressedStore,
    @Inject(SUITE_CONFIG) private readonly config: SuiteConfig,
    private readonly sets: EvaluationSetCatalog,
    private readonly commands: RegistryCommands,
  ) {}

  async run(event: RecordedEvent, heartbeat: () => Promise<void> = async () => undefined): Promise<void> {
    const target = parseModelVersionStream(event.streamName);
    if (!target) return;
    const request = event.data as EvaluationRequested['data'];
    const send = (type: string, commandId: string, data: Record<string, unknown>) =>
      this.commands.send('evaluator', {
        commandId,
        type,
        model: target.model,
        version: target.version,
        data: { evaluationId: request.evaluationId, ...data },
        correlationId: event.metadata.correlationId,
        causationId: event.metadata.eventId,
      } satisfies CommandMessage);
    try {
      const { version: setVersion, set } = await this.sets.resolve(request.set.name, request.set.digest);
      const candidate = await this.loadModel(target.model, target.version);
      const champion = request.championVersion === null ? null : await this.loadModel(target.model, request.championVersion);
      this.logger.log(
        `evaluating ${target.model}@${target.version}${champion ? ` against v${request.championVersion}` : ''} on ${set.rows} rows of ${request.set.name} ${setVersion.digest}`,
      );
      let lastReport = 0;
      const progress = async (done: number, total: number): Promise<void> => {
        await heartbeat();
        const now = Date.now();
        if (done < total && now - lastReport < PROGRESS_EVERY_MS) return;
        lastReport = now;
        this.logger.log(`${target.model}@${target.version}: ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} rows`);
        await send('RecordEvaluationProgress', deriveId(request.evaluationId, `progress-${done}`), { rowsDone: done, rowsTotal: total });
      };
      const candidateOut = await this.score(candidate, set, champion ? 2 : 1, progress);
      const championOut = champion ? await this.score(champion, set, 2, async () => undefined) : null;
      const policy = foldModel(timed<ModelEvent>(await this.store.readStream(modelStream(target.model))));
      const thresholds = policy.status === 'created' ? (policy.policy.evaluation?.thresholds ?? {}) : {};
      const { metrics, comparison, details } = this.measure(set, candidateOut, championOut, request.championVersion);
      // Test-only fault injection (MRW_CRASH_AT): die like `kill -9` with the work done but not reported.
      if (this.config.crashAt === 'evaluator:before-result') process.kill(process.pid, 'SIGKILL');
      await send('RecordEvaluationResult', deriveId(request.evaluationId, 'result'), {
        set: { name: request.set.name, digest: setVersion.digest },
        metrics,
        comparison,
        verdict: verdictOf(checkThresholds(thresholds, metrics, comparison)),
        details,
      });
    } catch (error) {
      if (error instanceof ModelRunError || error instanceof EvaluationSetError || error instanceof ArtifactError) {
        this.logger.warn(`evaluation ${request.evaluationId} of ${target.model}@${target.version} failed: ${error.code} ${error.message}`);
        await send('RecordEvaluationFailure', deriveId(request.evaluationId, 'failure'), { code: error.code, reason: error.message });
        return;
      }
      throw error;
    }
  }

  /** A registered version's model file, fetched and checked against its recorded digest. */
  private async loadModel(model: string, version: number): Promise<Uint8Array> {
    const state = foldModelVersion(timed<ModelVersionEvent>(await this.store.readStream(modelVersionStream(model, version))));
    if (state.status !== 'registered') throw new ArtifactError('ARTIFACT_MISSING', `${model}@${version} is not registered`);
    return fetchArtifact(state.source, state.artifactDigest, { store: this.artifacts, allowFileSources: this.config.allowFileSources });
  }

  private async score(
    model: Uint8Array,
    set: LoadedEvaluationSet,
    concurrentModels: number,
    progress: (done: number, total: number) => Promise<void>,
  ): Promise<ModelOutputs> {
    const runner = await OnnxModelRunner.load(model, Math.max(1, Math.floor(this.config.evaluatorThreads / concurrentModels)));
    try {
      let reporting = Promise.resolve();
      const out = await runner.run(set.features, set.rows, set.featureNames.length, {
        onProgress: (done, total) => {
          reporting = reporting.then(() => progress(done, total));
        },
      });
      await reporting;
      return out;
    } finally {
      await runner.close();
    }
  }

  private measure(
    set: LoadedEvaluationSet,
    candidate: ModelOutputs,
    champion: ModelOutputs | null,
    championVersion: number | null,
  ): { metrics: Record<string, number>; comparison: ReturnType<typeof toComparison> | null; details: EvaluationDetails } {
    const slice = set.slices[0];
    const groups = slice ? { groups: slice.groups } : {};
    const options = {
      ...(slice ? { groupNames: slice.values } : {}),
      ...(set.costMatrix ? { costMatrix: set.costMatrix } : {}),
      ...(set.task !== 'regression' ? { numClasses: set.classes } : {}),
    };
    const predictions = (out: ModelOutputs) =>
      set.task === 'regression'
        ? { yPred: Float64Array.from(out.values ?? []) }
        : { yPred: out.labels ?? new Int32Array(set.rows), ...(out.probabilities ? { proba: Float64Array.from(out.probabilities) } : {}) };
    let result: EvaluationResult;
    let comparison: ReturnType<typeof toComparison> | null = null;
    let championMetrics: Record<string, number> | undefined;
    if (champion && championVersion !== null) {
      const compared =
        set.task === 'regression'
          ? compareModels('regression', { yTrue: set.labels as Float64Array, candidate: predictions(candidate) as never, champion: predictions(champion) as never, ...groups }, options)
          : compareModels(set.task, { yTrue: set.labels as Int32Array, candidate: predictions(candidate) as never, champion: predictions(champion) as never, ...groups }, options);
      result = compared.candidate;
      championMetrics = finite(compared.champion.metrics);
      comparison = toComparison(compared, championVersion);
      comparison = {
        ...comparison,
        metrics: Object.fromEntries(
          Object.entries(comparison.metrics).filter(([, m]) => Number.isFinite(m.candidate) && Number.isFinite(m.champion)),
        ),
      };
    } else {
      result =
        set.task === 'regression'
          ? computeMetrics('regression', { yTrue: set.labels as Float64Array, ...(predictions(candidate) as { yPred: Float64Array }), ...groups }, options)
          : computeMetrics(set.task, { yTrue: set.labels as Int32Array, ...(predictions(candidate) as { yPred: Int32Array }), ...groups }, options);
    }
    return {
      metrics: finite(result.metrics),
      comparison,
      details: {
        rows: set.rows,
        ...(result.confusionMatrix ? { confusionMatrix: result.confusionMatrix } : {}),
        ...(result.slices && slice
          ? { slices: result.slices.map((s) => ({ slice: slice.name, group: s.name, count: s.count, metrics: finite(s.metrics as Record<string, number>) })) }
          : {}),
        ...(result.undefinedMetrics.length > 0 ? { undefinedMetrics: result.undefinedReasons } : {}),
        ...(championMetrics ? { championMetrics } : {}),
      },
    };
  }
}
