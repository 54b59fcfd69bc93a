import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  deriveId,
  parseModelVersionStream,
  type ArtifactRef,
  type CommandMessage,
  type EvaluationMeasurements,
  type EvaluationRequested,
} from '@mrw/contracts';
import { ArtifactError, fetchArtifact, type ContentAddressedStore } from '@mrw/artifacts';
import { OutboundHttp } from '@mrw/outbound';
import type { RecordedEvent } from '@mrw/event-store';
import { RegistryCommands, SUITE_CONFIG, type SuiteConfig } from '@mrw/platform';
import { EvaluationSetCatalog } from '../evaluation-sets/evaluation-set-catalog';
import { EvaluationSetError, type LoadedEvaluationSet } from '../evaluation-sets/evaluation-set';
import { measureInWorker } from './evaluation-worker';
import { ModelRunError, OnnxModelRunner, type ModelOutputs } from '../run-model/onnx-model-runner';

export const MODEL_ARTIFACTS = Symbol('MODEL_ARTIFACTS');

/** The metrics could not be computed on these predictions (recorded, not retried). */
class MeasuringError extends Error {
  override readonly name = 'MeasuringError';
  readonly code = 'EVALUATION_ERROR';
}

/** The request predates the artifact references in `EvaluationRequested` (recorded, not retried). */
class OutdatedRequestError extends Error {
  override readonly name = 'OutdatedRequestError';
  readonly code = 'REQUEST_WITHOUT_ARTIFACTS';
}

const PROGRESS_EVERY_MS = 2_000;

/**
 * The candidate's and the champion's artifacts from the request. Requests written before the
 * event carried them are answered with a failure that says to request the evaluation again:
 * the evaluator never reads the registry's streams to fill the gap.
 */
const artifactsOf = (
  request: EvaluationRequested['data'],
): { readonly candidate: ArtifactRef; readonly champion: (ArtifactRef & { readonly version: number }) | null } => {
  if (request.candidate === undefined || request.champion === undefined) {
    throw new OutdatedRequestError(
      'the evaluation request does not name the model files (it predates that field): move the version to Staging again or request a new evaluation',
    );
  }
  return { candidate: request.candidate, champion: request.champion };
};

/**
 * One evaluation: the candidate and the serving champion scored on the same immutable set
 * version, every metric computed, the two compared with a paired bootstrap (and McNemar for
 * classifiers), and the measurements sent to the registry, which judges them against the
 * model's thresholds. Everything it needs comes in the event (set, both artifacts and their
 * digests). A failure the inputs explain (corrupt model, digest mismatch, mismatched
 * features…) is sent as such; anything else throws, so the event is delivered again and the
 * run repeated, and the registry records one result because the command id derives from the
 * evaluation id.
 */
@Injectable()
export class RunEvaluation {
  private readonly logger = new Logger('evaluator');

  constructor(
    @Inject(MODEL_ARTIFACTS) private readonly artifacts: ContentAddressedStore,
    @Inject(SUITE_CONFIG) private readonly config: SuiteConfig,
    private readonly sets: EvaluationSetCatalog,
    private readonly commands: RegistryCommands,
    private readonly http: OutboundHttp,
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
      const artifacts = artifactsOf(request);
      const { version: setVersion, set } = await this.sets.resolve(request.set.name, request.set.digest);
      const candidate = await this.loadModel(artifacts.candidate);
      const champion = artifacts.champion === null ? null : await this.loadModel(artifacts.champion);
      const championVersion = artifacts.champion?.version ?? null;
      this.logger.log(
        `evaluating ${target.model}@${target.version}${champion ? ` against v${championVersion}` : ''} on ${set.rows} rows of ${request.set.name} ${setVersion.digest}`,
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
      // The feature matrix travels to each model's worker and back (transferred, not copied).
      const candidateRun = await this.score(candidate, set.features, set, champion ? 2 : 1, progress);
      const championOut = champion
        ? (await this.score(champion, candidateRun.features, set, 2, async () => undefined)).outputs
        : null;
      const candidateOut = candidateRun.outputs;
      await heartbeat();
      // Measuring is deterministic: if it throws, a retry would throw again, so it is a result.
      const { metrics, comparison, details } = await measureInWorker({
        set,
        candidate: candidateOut,
        champion: championOut,
        championVersion,
      }).catch((error: unknown) => {
        throw new MeasuringError(error instanceof Error ? error.message : String(error));
      });
      // Test-only fault injection (MRW_CRASH_AT): die like `kill -9` with the work done but not reported.
      if (this.config.crashAt === 'evaluator:before-result') process.kill(process.pid, 'SIGKILL');
      const measurements: Omit<EvaluationMeasurements, 'evaluationId'> = {
        set: { name: request.set.name, digest: setVersion.digest },
        metrics,
        comparison,
        details,
      };
      await send('RecordEvaluationResult', deriveId(request.evaluationId, 'result'), { ...measurements });
    } catch (error) {
      // A source that times out or answers 5xx/429 may answer later: the delivery retries the
      // whole evaluation (with backoff, without limit) instead of recording a failure.
      if (error instanceof ArtifactError && error.transient) throw error;
      if (
        error instanceof ModelRunError ||
        error instanceof EvaluationSetError ||
        error instanceof ArtifactError ||
        error instanceof MeasuringError ||
        error instanceof OutdatedRequestError
      ) {
        this.logger.warn(`evaluation ${request.evaluationId} of ${target.model}@${target.version} failed: ${error.code} ${error.message}`);
        await send('RecordEvaluationFailure', deriveId(request.evaluationId, 'failure'), { code: error.code, reason: error.message });
        return;
      }
      throw error;
    }
  }

  /** A model file named by the request, fetched and checked against the digest recorded at registration. */
  private async loadModel(artifact: ArtifactRef): Promise<Uint8Array> {
    return fetchArtifact(artifact.source, artifact.digest, {
      store: this.artifacts,
      http: this.http,
      fileSources: { allowed: this.config.allowFileSources, roots: this.config.fileSourceRoots },
      maxBytes: this.config.maxArtifactBytes,
    });
  }

  private async score(
    model: Uint8Array,
    features: Float32Array,
    set: LoadedEvaluationSet,
    concurrentModels: number,
    progress: (done: number, total: number) => Promise<void>,
  ): Promise<{ readonly outputs: ModelOutputs; readonly features: Float32Array }> {
    const runner = await OnnxModelRunner.load(model, Math.max(1, Math.floor(this.config.evaluatorThreads / concurrentModels)));
    try {
      let reporting = Promise.resolve();
      const out = await runner.run(features, set.rows, set.featureNames.length, {
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
}
