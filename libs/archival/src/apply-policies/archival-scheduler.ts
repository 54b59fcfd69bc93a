import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { deriveId, type CommandMessage } from '@mrw/contracts';
import { CLOCK, DurableTimers, RegistryCommands, type Clock } from '@mrw/platform';
import { ArchivalBook } from '../follow-models/archival-book';
import { archivalPlan, type ArchivalPlan } from '../plan-archival';
import { LiveMetricSamples } from '../record-live-metrics/live-metric-samples';
import type { ModelPolicy } from '@mrw/contracts';

/** The archival service's durable timers (`<dataDir>/archival-timers.sqlite`). */
export const ARCHIVAL_TIMERS = Symbol('ARCHIVAL_TIMERS');
/** Where the live-metric samples are kept. */
export const LIVE_METRIC_SAMPLES = Symbol('LIVE_METRIC_SAMPLES');

const KINDS = { archive: 'archive', breach: 'live-metric-breach' } as const;

/** The least time between two plans of one model made because events arrived. */
const REPLAN_EVERY_MS = 100;

interface ArchiveTimer {
  readonly model: string;
  readonly version: number;
  readonly rule: string;
}
interface BreachTimer {
  readonly model: string;
  readonly version: number;
  readonly metric: string;
}

/**
 * Applies each model's archival policy on time: every archival the plan foresees is a durable
 * timer at its due time (ids from model, version and rule, due times from the log and the
 * samples, so a restart or a re-plan schedules nothing twice), and when one fires the plan is
 * made again on the log as it stands then — only what is still due is archived, with the rule,
 * its parameters and the evidence. A sustained breach on the serving version is told to the
 * registry once per episode. Commands carry ids derived from what they decide, so a timer that
 * runs twice (a crash after sending) sends a replay the registry ignores.
 */
@Injectable()
export class ArchivalScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('archival');
  /** Models whose plan is to be made again, each with its wait under way. */
  private readonly toReplan = new Set<string>();
  /** When each model was last planned (`performance.now()`). */
  private readonly plannedAt = new Map<string, number>();

  constructor(
    @Inject(ARCHIVAL_TIMERS) private readonly timers: DurableTimers,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LIVE_METRIC_SAMPLES) private readonly samples: LiveMetricSamples,
    private readonly book: ArchivalBook,
    private readonly commands: RegistryCommands,
  ) {
    timers.on<ArchiveTimer>(KINDS.archive, (timer) => this.archive(timer.payload));
    timers.on<BreachTimer>(KINDS.breach, (timer) => this.breach(timer.payload));
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.book.caughtUp();
    for (const model of this.book.names()) this.replan(model);
  }

  /** Plans still waiting are dropped: the next start plans every model. */
  onApplicationShutdown(): void {
    this.toReplan.clear();
  }

  /** The plan for a model at `now` (its own policy unless another is given); undefined for an unknown model. */
  planOf(model: string, now: Date = this.clock.now(), policy?: ModelPolicy): ArchivalPlan | undefined {
    const facts = this.book.get(model);
    if (!facts) return undefined;
    return archivalPlan(facts, (version, metric) => this.samples.series(model, version, metric), now.toISOString(), policy ?? facts.policy);
  }

  /**
   * Makes the model's plan again once the events in hand are folded: all the events of one
   * append, or of one batch the subscription delivers, make one plan instead of one each (a
   * plan is a pass over the model's versions). A model planned less than `REPLAN_EVERY_MS` ago
   * waits out the rest of that time, so a model taking thousands of registrations a second is
   * planned ten times a second, not once per turn of the event loop. Nothing is lost to the
   * wait or to a crash meanwhile: timers are set at absolute due times, and every model is
   * planned again at start.
   */
  replanSoon(model: string): void {
    if (this.toReplan.has(model)) return;
    this.toReplan.add(model);
    const wait = (this.plannedAt.get(model) ?? -Infinity) + REPLAN_EVERY_MS - performance.now();
    if (wait <= 0) setImmediate(() => this.replanWaiting(model));
    else setTimeout(() => this.replanWaiting(model), wait).unref();
  }

  private replanWaiting(model: string): void {
    if (!this.toReplan.delete(model)) return;
    try {
      this.replan(model);
    } catch (error) {
      this.logger.error(`the archival plan of ${model} could not be made: ${error instanceof Error ? error.stack : String(error)}`);
    }
  }

  /** Schedules (or moves) the timers of a model's plan: its archivals and its breaches. */
  replan(model: string): void {
    this.plannedAt.set(model, performance.now());
    const plan = this.planOf(model);
    if (!plan) return;
    for (const candidate of [...plan.due, ...plan.upcoming]) {
      const outcome = this.timers.schedule(`archive:${model}@${candidate.version}:${candidate.rule}`, candidate.dueAt, KINDS.archive, {
        model,
        version: candidate.version,
        rule: candidate.rule,
      } satisfies ArchiveTimer);
      if (outcome !== 'unchanged') this.logger.log(`${model}@${candidate.version}: archived by ${candidate.rule} at ${candidate.dueAt} unless that changes`);
    }
    for (const alarm of plan.breaches) {
      // One timer per episode: identified by the run's first sample, due when the breach became true.
      this.timers.schedule(`breach:${model}@${alarm.version}:${alarm.metric}:${alarm.window.since}`, alarm.breachedAt, KINDS.breach, {
        model,
        version: alarm.version,
        metric: alarm.metric,
      } satisfies BreachTimer);
    }
    for (const next of plan.upcomingBreaches) {
      this.timers.schedule(`breach-due:${model}@${next.version}:${next.metric}:${next.dueAt}`, next.dueAt, KINDS.breach, { model, version: next.version, metric: next.metric } satisfies BreachTimer);
    }
  }

  private async archive(timer: ArchiveTimer): Promise<void> {
    await this.book.caughtUp();
    const candidate = this.planOf(timer.model)?.due.find((c) => c.version === timer.version && c.rule === timer.rule);
    if (!candidate) return;
    await this.tell({
      commandId: deriveId(`${timer.model}@${timer.version}`, `archive:${candidate.rule}:${candidate.dueAt}`),
      type: 'ArchiveModelVersion',
      model: timer.model,
      version: timer.version,
      data: { rule: candidate.rule, detail: candidate.detail, parameters: candidate.parameters, evidence: candidate.evidence },
      correlationId: deriveId(`${timer.model}@${timer.version}`, `archive:${candidate.rule}:${candidate.dueAt}`),
      causationId: null,
    });
    this.logger.log(`${timer.model}@${timer.version}: archived by ${candidate.rule} (${candidate.detail})`);
  }

  private async breach(timer: BreachTimer): Promise<void> {
    await this.book.caughtUp();
    const alarm = this.planOf(timer.model)?.breaches.find((b) => b.version === timer.version && b.metric === timer.metric);
    if (!alarm) return;
    const id = deriveId(`${timer.model}@${timer.version}`, `breach:${alarm.metric}:${alarm.window.since}`);
    await this.tell({
      commandId: id,
      type: 'RecordLiveMetricBreach',
      model: timer.model,
      version: timer.version,
      data: { metric: alarm.metric, direction: alarm.direction, threshold: alarm.threshold, window: alarm.window },
      correlationId: id,
      causationId: null,
    });
    this.logger.warn(`${timer.model}@${timer.version}: ${alarm.detail}`);
  }

  private tell(command: CommandMessage): Promise<void> {
    return this.commands.sendRetryable('archival', command);
  }
}
