import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/** The process's Prometheus registry and the suite's own metrics. */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Histogram({
    name: 'mrw_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly eventsAppended = new Counter({
    name: 'mrw_events_appended_total',
    help: 'Events appended to the event store, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly commandConflicts = new Counter({
    name: 'mrw_command_conflicts_total',
    help: 'Optimistic-concurrency conflicts retried by the command executor',
    registers: [this.registry],
  });

  readonly messagesConsumed = new Counter({
    name: 'mrw_consumer_messages_total',
    help: 'Messages a consumer group received, by type and outcome (handled, duplicate, ignored: no handler in this service, dead-lettered, refused)',
    labelNames: ['group', 'type', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly consumerRetries = new Counter({
    name: 'mrw_consumer_retries_total',
    help: 'Failed attempts at a message that were retried, by consumer group and failure kind (transient: no limit; unknown: bounded)',
    labelNames: ['group', 'kind'] as const,
    registers: [this.registry],
  });
  readonly consumerRetrying = new Gauge({
    name: 'mrw_consumer_retrying',
    help: '1 while a consumer group is retrying a message (its partition waits), else 0',
    labelNames: ['group'] as const,
    registers: [this.registry],
  });
  readonly eventsForwarded = new Counter({
    name: 'mrw_events_forwarded_total',
    help: 'Events the registry published from its log to Kafka',
    registers: [this.registry],
  });

  readonly evaluationWork = new Histogram({
    name: 'mrw_evaluation_work_seconds',
    help: "The evaluator's own work on one evaluation, from picking it up to its result: the set and the models loaded, both scored, every metric measured (the workflow's messaging and the registry's steps are not in it)",
    labelNames: ['outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  /** Where the other processes serving this port report their metrics from (see `gatherFrom`). */
  private others: () => Promise<ReadonlyArray<MetricsOfProcess>> = async () => [];

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Names this process among those serving one port: every series it reports carries
   * `serving_process="<name>"` (a reader's; the suite's own series carry no such label).
   */
  nameProcess(name: string): void {
    this.registry.setDefaultLabels({ serving_process: name });
  }

  /** The series of the other processes serving this port are reported with this one's. */
  gatherFrom(others: () => Promise<ReadonlyArray<MetricsOfProcess>>): void {
    this.others = others;
  }

  /**
   * The Prometheus exposition: this process's series, and those of the processes it gathers
   * from. Theirs carry their `serving_process`, so no two series meet: every family is merged
   * as a plain union (prom-client's own aggregators would drop a family marked `omit`, such as
   * process_start_time_seconds, from every process). Should theirs not merge, this process's
   * alone are reported.
   */
  async exposition(): Promise<string> {
    const others = await this.others();
    if (others.length === 0) return this.registry.metrics();
    const own = await this.registry.getMetricsAsJSON();
    try {
      return await AggregatorRegistry.aggregate([own, ...others].map((families) => families.map((family) => ({ ...family, aggregator: 'sum' as const })))).metrics();
    } catch {
      return this.registry.metrics();
    }
  }
}

/** What one process's registry holds, as `Registry.getMetricsAsJSON` gives it (and IPC carries it). */
export type MetricsOfProcess = Array<MetricObjectWithValues<MetricValue<string>>>;

/** Times every request; labels by the matched route pattern, not the raw path. */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: Metrics) {}

  use(request: Request, response: Response, next: NextFunction): void {
    const end = this.metrics.httpRequests.startTimer({ method: request.method });
    response.on('finish', () => {
      const route = (request.route as { path?: string } | undefined)?.path ?? 'unmatched';
      end({ route: `${request.baseUrl}${route}`, status: String(response.statusCode) });
    });
    next();
  }
}
