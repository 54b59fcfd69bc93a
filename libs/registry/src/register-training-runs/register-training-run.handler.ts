import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { artifactUri } from '@mrw/artifacts';
import { deriveId, isUuid, type CommandMetadata, type TrainingRunCompleted } from '@mrw/contracts';
import { canonicalJson } from '@mrw/event-store';
import { PoisonMessageError } from '@mrw/messaging';
import { CLOCK, ProblemException, type AuthPrincipal, type Clock } from '@mrw/platform';
import { VersionRegistration } from '../register-version/version-registration';
import { StageTransitions } from '../request-transition/stage-transitions';
import { paramTags } from './training-run-completed.parser';

/** The command id of a run's registration: one per (model, runId), whoever sends it and however often. */
export const trainingRunCommandId = (model: string, runId: string): string => deriveId(`training-run|${model}`, runId);

/** What makes two events of one run "the same event": the producer and the event's content (key order does not matter). */
const fingerprintOf = (producer: AuthPrincipal, event: TrainingRunCompleted): string =>
  `sha256:${createHash('sha256').update(canonicalJson({ producer: producer.actor, event }), 'utf8').digest('hex')}`;

/**
 * A training platform's finished run becomes a version, through the path of
 * `POST /models/{name}/versions` (the same source checks) and, when asked, of
 * `POST .../transitions` to Staging, with the producer as the actor. The command ids derive
 * from (model, runId) and carry the event's fingerprint: a redelivered or re-published event
 * appends nothing new and completes whatever a crash left undone, while the same runId with
 * other content is refused as RUN_ID_REUSED. Every refusal is poison, dead-lettered with its
 * code and reason.
 */
@Injectable()
export class RegisterTrainingRunHandler {
  private readonly logger = new Logger('training-events');

  constructor(
    private readonly registration: VersionRegistration,
    private readonly transitions: StageTransitions,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async handle(producer: AuthPrincipal, event: TrainingRunCompleted, correlationId: string | undefined): Promise<void> {
    const commandId = trainingRunCommandId(event.model, event.runId);
    const metadata: CommandMetadata = {
      commandId,
      actor: producer.actor,
      now: this.clock.now().toISOString(),
      correlationId: correlationId && isUuid(correlationId) ? correlationId : commandId,
      causationId: null,
      requestHash: fingerprintOf(producer, event),
    };
    const run = `run ${event.runId} of ${event.model}`;
    const registered = await refusedAsPoison(run, () =>
      this.registration.register(
        event.model,
        {
          source: event.source ?? artifactUri(event.artifactDigest as string),
          artifactDigest: event.artifactDigest,
          runId: event.runId,
          metrics: event.metrics,
          tags: { ...event.tags, ...paramTags(event.params) },
          description: event.description,
        },
        metadata,
      ),
    );
    const version = registered.version.version;
    if (!registered.replayed) this.logger.log(`${run} registered as v${version} by ${producer.actor.id}`);
    if (event.requestStage !== 'Staging') return;
    const requested = await refusedAsPoison(`${run} (v${version}, registered; the Staging request was refused)`, () =>
      this.transitions.request(event.model, version, 'Staging', `training run ${event.runId}`, {
        ...metadata,
        commandId: deriveId(commandId, 'request-staging'),
      }),
    );
    if (requested.request) this.logger.log(`${run}: Staging requested for v${version} (${requested.request.status})`);
  }
}

/** Runs a registry step; a refusal by the rules (a 4xx problem) becomes poison with its code, anything else is thrown as it is (retried). */
const refusedAsPoison = async <T>(what: string, step: () => Promise<T>): Promise<T> => {
  try {
    return await step();
  } catch (error) {
    if (!(error instanceof ProblemException) || error.status >= 500) throw error;
    if (error.code === 'IDEMPOTENCY_KEY_REUSED') {
      throw new PoisonMessageError(
        `RUN_ID_REUSED: ${what}: this runId was already registered from an event with other content or from another producer; one run registers one version, so give a new run a new runId`,
      );
    }
    throw new PoisonMessageError(`${error.code}: ${what}: ${error.message}`);
  }
};
