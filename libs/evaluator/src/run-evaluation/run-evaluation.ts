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
import { Metrics, RegistryCommands, SUITE_CONFIG, type SuiteConfig } from '@mrw/platform';
import { EvaluationSetCatalog } from '../evaluation-sets/evaluation-set-catalog';
import { EvaluationSetError, type LoadedEvaluationSet } from '../evaluation-sets/evaluation-set';
import { measureInWorker } from './evaluation-worker';
import { OipModelClient } from '../run-model/oip-model-client';
import { ModelRunError, OnnxModelRunner, type ModelOutputs } from '../run-model/onnx-model-runner';

/** A model to score: its file (scored in a worker thread here) or a client of the endpoint that serves it. */
type Scorer = Uint8Array | OipModelClient;

/** One evaluation to run: the request as the registry wrote it, and where to score the candidate. */
export interface EvaluationJob {
  readonly model: string;
  readonly version: number;
  readonly request: EvaluationRequested['data'];
  readonly correlationId: string;
  /** The `EvaluationRequested` event's id: what the evaluator sends is its consequence. */
  readonly causationId: string;
  /** Shadow evaluation: score the candidate through this Open Inference Protocol endpoint instead of in-process. */
  readonly shadow?: { readonly environment: string; readonly endpoint: string };
}

/** The job an `EvaluationRequested` event asks for (undefined for an event on another stream). */
export const evaluationJobOf = (event: RecordedEvent): EvaluationJob | undefined => {
  const target = parseModelVersionStream(event.streamName);
  if (!target) return undefined;
  return {
    model: target.model,
    version: target.version,
    request: event.data as EvaluationRequested['data'],
    correlationId: event.metadata.correlationId,
    causationId: event.metadata.eventId,
  };
};

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
    private readonly metrics: Metrics,
  ) {}

  /** `EvaluationRequested` scored in-process (a shadow evaluation goes through ShadowScoring instead). */
  async run(event: RecordedEvent, heartbeat: () => Promise<void> = async () => undefined): Promise<void> {
    const job = evaluationJobOf(event);
    if (job) await this.evaluate(job, heartbeat);
  }

  /** Runs one evaluation job to its result or recorded failure; a transient failure is thrown (and retried by the caller). */
  async evaluate(job: EvaluationJob, heartbeat: () => Promise<void> = async () => undefined, signal?: AbortSignal): Promise<void> {
    const { request } = job;
    const target = { model: job.model, version: job.version };
    const send = (type: string, commandId: string, data: Record<string, unknown>) =>
      this.commands.send('evaluator', {
        commandId,
        type,
        model: target.model,
        version: target.version,
        data: { evaluationId: request.evaluationId, ...data },
        correlationId: job.correlationId,
        causationId: job.causationId,
      } satisfies CommandMessage);
    const work = this.metrics.evaluationWork.startTimer();
    try {
      const artifacts = artifactsOf(request);
      const { version: setVersion, set } = await this.sets.resolve(request.set.name, request.set.digest);
      // Through the shadow endpoint, the deployer fetched and verified the candidate's file.
      const candidate: Scorer = job.shadow
        ? await OipModelClient.connect(job.shadow.endpoint, target.model, target.version, signal)
        : await this.loadModel(artifacts.candidate);
      const champion = artifacts.champion === null ? null : await this.loadModel(artifacts.champion);
      const championVersion = artifacts.champion?.version ?? null;
      this.logger.log(
        `evaluating ${target.model}@${target.version}${job.shadow ? ` through ${job.shadow.endpoint} (${job.shadow.environment})` : ''}${champion ? ` against v${championVersion}` : ''} on ${set.rows} rows of ${request.set.name} ${setVersion.digest}`,
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
        scoring: {
          candidate: job.shadow ? { via: 'shadow', environment: job.shadow.environment, endpoint: job.shadow.endpoint } : { via: 'in-process' },
          champion: champion ? { via: 'in-process' } : null,
        },
      };
      work({ outcome: 'measured' });
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
        work({ outcome: 'failed' });
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
    model: Scorer,
    features: Float32Array,
    set: LoadedEvaluationSet,
    concurrentModels: number,
    progress: (done: number, total: number) => Promise<void>,
  ): Promise<{ readonly outputs: ModelOutputs; readonly features: Float32Array }> {
    const runner = model instanceof Uint8Array ? await OnnxModelRunner.load(model, Math.max(1, Math.floor(this.config.evaluatorThreads / concurrentModels))) : model;
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
