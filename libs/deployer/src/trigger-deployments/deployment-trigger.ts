import { Inject, Injectable, Logger } from '@nestjs/common';
import type { RecordedEvent } from '@mrw/event-store';
import { PoisonMessageError } from '@mrw/messaging';
import { CLOCK, DurableTimers, ProblemException, RegistryCommands, SUITE_CONFIG, type Clock, type DueTimer, type SuiteConfig } from '@mrw/platform';
import { failureKind, TransientError } from '@mrw/resilience';
import type { CommandMessage } from '@mrw/contracts';
import { DeploymentTargets, reasonOf, type SentRequest, type TargetTrigger } from '../deployment-targets/deployment-target';
import { DeploymentBook } from '../follow-deployments/deployment-book';
import { CallbackTokens } from '../report-outcome/callback-tokens';
import { conclusionAfter, evolveRun, targetRun, type RunEvent, type RunState, type TargetRun } from './deployment-run';
import { DeploymentRuns } from './deployment-runs';
import {
  DEPLOYMENT_TIMER_KINDS,
  deploymentTimerIds,
  outcomeCommand,
  planOf,
  startedCommand,
  type DeploymentPlan,
  type TriggerPayload,
} from './deployment-timers';

/** The deployer's durable timers (`<dataDir>/deployer-timers.sqlite`). */
export const DEPLOYER_TIMERS = Symbol('DEPLOYER_TIMERS');


/**
 * Carries out `DeploymentRequested`: each target is triggered exactly once, its outcome
 * gathered, and the deployment's conclusion reported to the registry once.
 *
 * Every step is a durable timer derived from the event (ids from the deployment id, due times
 * from the event), so a redelivered event schedules nothing new and a restart resumes where the
 * process stopped. A trigger records each attempt before sending and what it sent right after the
 * target answered, and checks that record before sending: a redelivery or a restart after the
 * record sends nothing again. After a crash between a send and its record, a target that can
 * look for what it started (GitHub's workflow runs, by the deployment id in their title) looks
 * first; others get the request once more, with the same deployment id, callback URL and
 * `webhook-id` to deduplicate by (at least once toward the target, exactly once when it
 * deduplicates).
 */
@Injectable()
export class DeploymentTrigger {
  private readonly logger = new Logger('deployer');

  constructor(
    @Inject(DEPLOYER_TIMERS) private readonly timers: DurableTimers,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly commands: RegistryCommands,
    private readonly book: DeploymentBook,
    private readonly runs: DeploymentRuns,
    private readonly targets: DeploymentTargets,
    private readonly callbacks: CallbackTokens,
    @Inject(SUITE_CONFIG) private readonly config: SuiteConfig,
  ) {
    timers.on<TriggerPayload>(DEPLOYMENT_TIMER_KINDS.trigger, (timer) => this.trigger(timer));
    timers.on<DeploymentPlan>(DEPLOYMENT_TIMER_KINDS.outcome, (timer) => this.reportOutcome(timer.payload));
    timers.on<DeploymentPlan>(DEPLOYMENT_TIMER_KINDS.timeout, (timer) => this.timedOut(timer.payload));
  }

  /**
   * `DeploymentRequested`: a trigger timer per target, due when the deployment was requested,
   * and the timeout. A deployment the registry already finished (the consumer group reading an
   * old log) is left alone.
   */
  async requested(event: RecordedEvent): Promise<void> {
    await this.book.caughtUp();
    const at = event.streamName.slice('modelVersion-'.length);
    const data = event.data as { deploymentId?: unknown };
    if (typeof data.deploymentId === 'string' && this.book.isFinished(data.deploymentId)) return;
    const known = typeof data.deploymentId === 'string' ? this.book.get(data.deploymentId) : undefined;
    const artifact = known ? this.book.artifactOf(known.model, known.version) : undefined;
    if (!known || !artifact) throw new PoisonMessageError(`${event.type} on ${event.streamName}: the deployment or the version of ${at} is not in the log`);
    const plan = planOf(event, artifact, this.book.timeoutOf(known.model));
    plan.targets.forEach((_, target) => {
      this.timers.schedule(deploymentTimerIds.trigger(plan.deploymentId, target), plan.requestedAt, DEPLOYMENT_TIMER_KINDS.trigger, { plan, target });
    });
    const timeout = this.timers.schedule(deploymentTimerIds.timeout(plan.deploymentId), plan.deadline, DEPLOYMENT_TIMER_KINDS.timeout, plan);
    if (timeout === 'scheduled') {
      this.logger.log(`deployment ${plan.deploymentId} of ${plan.model}@${plan.version}: ${plan.targets.length} target(s), fails at ${plan.deadline} without an outcome`);
    }
  }

  /**
   * A target's report through its callback: spends the token, durably and once — 409
   * `CALLBACK_ALREADY_USED` if this target already reported, 409 `DEPLOYMENT_FINISHED` once the
   * deployment is concluded — and, if that decides the deployment, schedules its report to the
   * registry.
   */
  async report(
    plan: DeploymentPlan,
    target: number,
    report: { outcome: 'succeeded' | 'failed'; message: string | null; endpoint: string | null },
    correlationId: string,
  ): Promise<RunState> {
    const state = await this.runs.change(
      plan.deploymentId,
      (run) => {
        const reported = targetRun(run, target).reported;
        if (reported) {
          throw new ProblemException('CALLBACK_ALREADY_USED', `this callback URL was used at ${reported.at} (${reported.outcome}); a callback reports once`, {}, 409);
        }
        if (run.concluded) {
          throw new ProblemException('DEPLOYMENT_FINISHED', `deployment ${plan.deploymentId} already ${run.concluded.outcome} at ${run.concluded.at}`, {}, 409);
        }
        return this.withConclusion(run, plan, [
          {
            type: 'DeploymentTargetReported',
            data: { deploymentId: plan.deploymentId, target, outcome: report.outcome, via: 'callback', endpoint: report.endpoint, message: report.message },
          },
        ]);
      },
      correlationId,
    );
    this.scheduleOutcome(plan, state);
    return state;
  }

  /** The plan a trigger timer carries, for the callback route (which knows only the deployment id and target). */
  planOf(deploymentId: string): DeploymentPlan | undefined {
    const timer = this.timers.get(deploymentTimerIds.trigger(deploymentId, 0));
    return timer ? (timer.payload as TriggerPayload).plan : undefined;
  }

  /** What the trigger timers of a deployment say about their attempts, for `GET /deployments/{id}`. */
  attemptsOf(deploymentId: string, target: number): { attempts: number; lastError: string | null; status: string } | undefined {
    const timer = this.timers.get(deploymentTimerIds.trigger(deploymentId, target));
    return timer ? { attempts: timer.attempts, lastError: timer.lastError, status: timer.status } : undefined;
  }

  private async trigger(timer: DueTimer<TriggerPayload>): Promise<void> {
    const { plan, target } = timer.payload;
    const planned = plan.targets[target];
    if (!planned) throw new PoisonMessageError(`deployment ${plan.deploymentId} has no target ${target}`);
    let run = await this.runs.read(plan.deploymentId);
    if (run.concluded) return;
    if (this.clock.now().getTime() >= Date.parse(plan.deadline)) return this.timedOut(plan);

    const before = targetRun(run, target);
    if (!before.triggered && !before.reported) {
      // One deployment in flight per model and environment: a later one waits (retried with
      // backoff, within its own timeout) until the earlier one has an outcome.
      const ahead = this.book.inFlightBefore(plan.deploymentId);
      if (ahead) {
        throw new TransientError(`deployment ${plan.deploymentId} waits for deployment ${ahead.id} of ${ahead.model}@${ahead.version} to ${ahead.environment} to finish`);
      }
      run = await this.send(plan, target, timer.signal, before.attempted);
    }
    if (targetRun(run, target).triggered && !this.book.isFinished(plan.deploymentId)) {
      await this.tell(startedCommand(plan));
    }
    this.scheduleOutcome(plan, run);
  }

  /** Triggers one target and records what happened: accepted, deployed, or refused. A transient failure is thrown and retried. */
  private async send(plan: DeploymentPlan, target: number, signal: AbortSignal, attempted: TargetRun['attempted']): Promise<RunState> {
    const planned = plan.targets[target] as DeploymentPlan['targets'][number];
    const kind = this.targets.get(planned.kind);
    let events: RunEvent[];
    if (!kind) {
      events = [this.refused(plan, target, `UNKNOWN_TARGET_KIND: no deployment target of kind ${planned.kind} (known: ${this.targets.list().join(', ')})`, null)];
    } else {
      const request: TargetTrigger = {
        deploymentId: plan.deploymentId,
        idempotencyKey: plan.idempotencyKey,
        model: plan.model,
        version: plan.version,
        purpose: plan.purpose,
        replacing: plan.replacing,
        environment: planned.environment,
        settings: planned.settings,
        artifactUri: plan.artifact.uri,
        artifactDigest: plan.artifact.digest,
        callbackUrl: this.callbacks.callbackUrl(plan.deploymentId, target, plan.deadline),
        signal,
      };
      try {
        // A send that may have left before a crash: a target that can look for what it started looks first.
        const earlier = attempted && kind.findTriggered ? await kind.findTriggered(request, { ...attempted, now: this.clock.now() }) : undefined;
        if (earlier) {
          this.logger.log(`deployment ${plan.deploymentId}: ${planned.kind} (${planned.environment}) was triggered before the restart: ${earlier.response.answer}`);
          return await this.record(plan, target, [
            { type: 'DeploymentTargetTriggered', data: { deploymentId: plan.deploymentId, target, kind: planned.kind, environment: planned.environment, sent: earlier.sent, response: earlier.response } },
          ]);
        }
        await this.runs.change(plan.deploymentId, () => [{ type: 'DeploymentTargetAttempted', data: { deploymentId: plan.deploymentId, target } }], plan.correlationId);
        const result = await kind.trigger(request);
        // Test-only fault injection (MRW_CRASH_AT): die like `kill -9` after the request left, before its record.
        if (this.config.crashAt === 'deployer:after-send') process.kill(process.pid, 'SIGKILL');
        const triggered: RunEvent = {
          type: 'DeploymentTargetTriggered',
          data: {
            deploymentId: plan.deploymentId,
            target,
            kind: planned.kind,
            environment: planned.environment,
            sent: result.sent ?? null,
            response: result.outcome === 'triggered' ? result.response : null,
          },
        };
        events =
          result.outcome === 'triggered'
            ? [triggered]
            : [
                triggered,
                {
                  type: 'DeploymentTargetReported',
                  data: { deploymentId: plan.deploymentId, target, outcome: 'succeeded', via: 'target', endpoint: result.endpoint, message: null },
                },
              ];
        this.logger.log(`deployment ${plan.deploymentId}: ${planned.kind} (${planned.environment}) ${result.outcome}`);
      } catch (error) {
        if (failureKind(error) !== 'permanent') throw error;
        const sent = (error as { sent?: SentRequest }).sent ?? null;
        events = [this.refused(plan, target, reasonOf(error), sent)];
        this.logger.warn(`deployment ${plan.deploymentId}: ${planned.kind} (${planned.environment}) refused: ${reasonOf(error)}`);
      }
    }
    return this.record(plan, target, events);
  }

  /** Records a trigger's outcome, and the conclusion it leads to. */
  private record(plan: DeploymentPlan, target: number, events: RunEvent[]): Promise<RunState> {
    return this.runs.change(
      plan.deploymentId,
      (run) => {
        // A callback may have come first (a fast pipeline): what it reported stands.
        const now = targetRun(run, target);
        const fresh = events.filter((e) => (e.type === 'DeploymentTargetTriggered' ? !now.triggered : !now.reported));
        return fresh.length === 0 ? [] : this.withConclusion(run, plan, fresh);
      },
      plan.correlationId,
    );
  }

  private refused(plan: DeploymentPlan, target: number, message: string, sent: SentRequest | null): RunEvent {
    return { type: 'DeploymentTargetReported', data: { deploymentId: plan.deploymentId, target, outcome: 'failed', via: 'trigger', endpoint: null, message, sent } };
  }

  /** The events plus the conclusion they lead to, if the run is still open. */
  private withConclusion(run: RunState, plan: DeploymentPlan, events: RunEvent[]): RunEvent[] {
    if (run.concluded) return events;
    const after = events.reduce((s, e, i) => evolveRun(s, { type: e.type, data: e.data, revision: run.revision + 1 + i, at: '' }), run);
    const conclusion = conclusionAfter(after, plan.deploymentId, plan.targets);
    return conclusion ? [...events, conclusion] : events;
  }

  /** Once concluded: the report to the registry, as its own timer (due now, once per deployment). */
  private scheduleOutcome(plan: DeploymentPlan, run: RunState): void {
    if (!run.concluded) return;
    this.timers.schedule(deploymentTimerIds.outcome(plan.deploymentId), run.concluded.at, DEPLOYMENT_TIMER_KINDS.outcome, plan);
  }

  private async reportOutcome(plan: DeploymentPlan): Promise<void> {
    const run = await this.runs.read(plan.deploymentId);
    if (!run.concluded) return;
    await this.tell(outcomeCommand(plan, run.concluded));
    // Nothing is left to do for this deployment: triggers still retrying stop, the timeout is moot.
    plan.targets.forEach((_, target) => this.timers.cancel(deploymentTimerIds.trigger(plan.deploymentId, target)));
    this.timers.cancel(deploymentTimerIds.timeout(plan.deploymentId));
    this.logger.log(`deployment ${plan.deploymentId} ${run.concluded.outcome}${run.concluded.reason ? `: ${run.concluded.reason}` : ''}`);
  }

  /** The deadline passed: without a conclusion the deployment fails; a conclusion not yet reported is reported now. */
  private async timedOut(plan: DeploymentPlan): Promise<void> {
    const run = await this.runs.change(
      plan.deploymentId,
      (state) =>
        state.concluded
          ? []
          : [
              {
                type: 'DeploymentConcluded',
                data: {
                  deploymentId: plan.deploymentId,
                  outcome: 'failed',
                  endpoint: null,
                  reason: `DEPLOYMENT_TIMED_OUT: no outcome within ${plan.timeout} (${pendingTargets(plan, state)})`,
                },
              },
            ],
      plan.correlationId,
    );
    this.scheduleOutcome(plan, run);
    await this.reportOutcome(plan);
  }

  private tell(command: CommandMessage): Promise<void> {
    return this.commands.sendRetryable('deployer', command);
  }
}

const pendingTargets = (plan: DeploymentPlan, state: RunState): string =>
  plan.targets
    .map((t, i) => {
      const run = targetRun(state, i);
      return `${t.kind} (${t.environment}) ${run.reported ? run.reported.outcome : run.triggered ? 'triggered, no callback' : 'not triggered'}`;
    })
    .join('; ');
