import { join } from 'node:path';
import { applyDecorators, Catch, Controller, Logger, UseFilters, type INestApplication, type RpcExceptionFilter } from '@nestjs/common';
import { BaseRpcContext, Server, type CustomTransportStrategy, type MessageHandler, type MicroserviceOptions, type MsPattern } from '@nestjs/microservices';
import { isObservable, lastValueFrom, throwError, type Observable } from 'rxjs';
import { CONSUMER_GROUPS, HEADERS, TOPIC_PARTITIONS, TOPICS, type ServiceName } from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';
import {
  decodeEvent,
  Inbox,
  MESSAGE_BUS,
  PoisonMessageError,
  type HandlerContext,
  type IncomingMessage,
  type MessageBus,
  type RetryNotice,
  type RunningConsumer,
} from '@mrw/messaging';
import { backoffDelay, failureKind, sleep } from '@mrw/resilience';
import { SUITE_CONFIG, type SuiteConfig } from '../config/config';
import { Metrics } from '../observability/metrics';
import { Readiness } from '../observability/readiness';

/** Who consumes: a reacting service on the events topic, or the registry on the commands and training-events topics. */
export type BusConsumer = ServiceName | 'registry';

/** `@EventPattern(registryEvent('evaluator', 'EvaluationRequested'))`: this service reacts to this event type. */
export const registryEvent = (consumer: ServiceName, event: string): { consumer: ServiceName; event: string } => ({ consumer, event });

/** `@EventPattern(serviceCommand('RecordEvaluationResult'))`: the registry handles this command from a service. */
export const serviceCommand = (command: string): { consumer: 'registry'; command: string } => ({ consumer: 'registry', command });

/** `@EventPattern(trainingEvent('TrainingRunCompleted'))`: the registry handles this event from a training platform (`mrw.training.events.v1`). */
export const trainingEvent = (event: string): { consumer: 'registry'; training: string } => ({ consumer: 'registry', training: event });

/** What a handler learns about the message besides its payload: the raw message, and a heartbeat for long work. */
export class BusContext extends BaseRpcContext<[IncomingMessage, HandlerContext]> {
  getMessage(): IncomingMessage {
    return this.args[0];
  }

  /** Keeps a long handler (an evaluation) in its consumer group. */
  heartbeat(): Promise<void> {
    return this.args[1].heartbeat();
  }
}

/**
 * Lets a handler's own error reach the transport, so its kind (permanent, transient,
 * unknown) decides between the DLQ and a retry; Nest's default filter would replace it
 * with a generic "Internal server error".
 */
@Catch()
export class RethrowToTransport implements RpcExceptionFilter {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}

/** A controller of bus handlers (`@EventPattern` methods) whose errors reach the transport as thrown. */
export const BusController = (): ClassDecorator => applyDecorators(Controller(), UseFilters(RethrowToTransport));

/** Starts the bus transport beside the HTTP server: every `@EventPattern` handler of the app starts consuming. */
export const connectBusTransport = async (app: INestApplication): Promise<void> => {
  const strategy = new BusTransport({
    bus: app.get<MessageBus>(MESSAGE_BUS),
    config: app.get<SuiteConfig>(SUITE_CONFIG),
    metrics: app.get(Metrics),
    readiness: app.get(Readiness),
  });
  app.connectMicroservice<MicroserviceOptions>({ strategy }, { inheritAppConfig: false });
  await app.startAllMicroservices();
};

interface Pattern {
  readonly consumer: BusConsumer;
  readonly event?: string;
  readonly command?: string;
  readonly training?: string;
}

export interface BusTransportDeps {
  readonly bus: MessageBus;
  readonly config: SuiteConfig;
  readonly metrics: Metrics;
  readonly readiness: Readiness;
}

/**
 * The suite's @nestjs/microservices transport, over the message bus port: Kafka in
 * distributed mode, the event log's checkpointed subscriptions in embedded mode, so the
 * same `@EventPattern` controllers run in both. Per consumer it runs one consumer group
 * (`mrw-<service>`), skips redelivered events by id (each service's inbox), dispatches by
 * event or command type, and commits only after the handler's effect is done: permanent
 * failures go to the DLQ with their reason, transient ones are retried without limit while
 * the partition waits (visible in /metrics and /readyz).
 */
export class BusTransport extends Server implements CustomTransportStrategy {
  private readonly log = new Logger('bus-transport');
  private readonly consumers: RunningConsumer[] = [];
  private readonly inboxes: Inbox[] = [];
  private readonly inboxOf = new Map<string, Inbox>();
  private readonly tracked = new Map<string, ReturnType<BusTransport['hooksFor']>>();
  private readonly retrying = new Map<string, RetryNotice>();
  private readonly running = new Map<string, RunningConsumer>();
  /** Handlers by pattern, looked up once: every handler is bound before `listen` starts a consumer. */
  private readonly routes = new Map<string, MessageHandler | null>();
  private starting: Promise<void> = Promise.resolve();
  private closing = false;

  constructor(private readonly deps: BusTransportDeps) {
    super();
  }

  /** Joins the groups in the background: `/readyz` says when each runs (a restarted broker may hold a dead member's partitions for its session timeout). */
  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    this.starting = this.start().catch((error: unknown) => {
      this.log.error(`cannot consume: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    });
    callback();
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.starting;
    await Promise.all(this.consumers.map((c) => c.stop()));
    this.consumers.length = 0;
    for (const inbox of this.inboxes) inbox.close();
    this.inboxes.length = 0;
  }

  on(): void {
    // The bus reports through the log and /readyz; there are no transport events to subscribe to.
  }

  unwrap<T>(): T {
    return this.deps.bus as T;
  }

  private patterns(): Pattern[] {
    return [...this.messageHandlers.keys()].flatMap((key) => {
      try {
        const pattern = JSON.parse(key) as Partial<Pattern>;
        return typeof pattern.consumer === 'string' ? [pattern as Pattern] : [];
      } catch {
        return [];
      }
    });
  }

  private async start(): Promise<void> {
    const patterns = this.patterns();
    const reacting = [...new Set(patterns.filter((p) => p.event).map((p) => p.consumer))] as ServiceName[];
    const registry = patterns.some((p) => p.consumer === 'registry' && p.command);
    const training = patterns.some((p) => p.consumer === 'registry' && p.training);
    if (this.deps.config.bus === 'kafka') {
      const topics = [
        ...(reacting.length > 0 ? [TOPICS.events] : []),
        ...(registry ? [TOPICS.commands] : []),
        ...(training ? [TOPICS.trainingEvents] : []),
      ];
      await this.untilStarted('topics', () => this.deps.bus.ensureTopics(topics.map((topic) => ({ topic, partitions: TOPIC_PARTITIONS[topic] ?? 6 }))));
    }
    const groups = [
      ...reacting.map((service) => this.untilStarted(CONSUMER_GROUPS[service], () => this.consumeEvents(service))),
      ...(registry ? [this.untilStarted(CONSUMER_GROUPS.registry, () => this.consumeCommands())] : []),
      ...(training ? [this.untilStarted(CONSUMER_GROUPS.trainingEvents, () => this.consumeTrainingEvents())] : []),
    ];
    await Promise.all(groups);
  }

  /**
   * Starts one part, again with backoff while the broker cannot serve it yet — a topic created a
   * moment ago whose partitions are not hosted yet, a coordinator still loading — instead of
   * giving up for the life of the process (`/readyz` says not ready meanwhile).
   */
  private async untilStarted(what: string, start: () => Promise<void>): Promise<void> {
    for (let attempt = 1; !this.closing; attempt += 1) {
      try {
        await start();
        return;
      } catch (error) {
        if (failureKind(error) === 'permanent') throw error;
        const wait = backoffDelay(attempt, { initialMs: 200, maxMs: 5_000 });
        this.log.warn(`${what}: cannot start yet (${error instanceof Error ? error.message : String(error)}); trying again in ${wait} ms`);
        await sleep(wait);
      }
    }
  }

  /** The retry and dead-letter hooks of a group, with its readiness check registered once. */
  private track(group: string): ReturnType<BusTransport['hooksFor']> {
    let hooks = this.tracked.get(group);
    if (!hooks) {
      hooks = this.hooksFor(group);
      this.tracked.set(group, hooks);
    }
    return hooks;
  }

  private hooksFor(group: string): Pick<Parameters<MessageBus['consume']>[0], 'onRetry' | 'onDeadLetter'> {
    this.deps.readiness.register({
      name: `${group}-consumer`,
      check: async () => {
        const retry = this.retrying.get(group);
        const consumer = this.running.get(group);
        const status = consumer?.status?.() ?? { ready: consumer !== undefined };
        const details = [
          ...(status.detail ? [status.detail] : []),
          ...(retry ? [`retrying ${describe(retry.message)} after ${retry.kind === 'unknown' ? 'an' : 'a'} ${retry.kind} failure (attempt ${retry.attempt}): ${String((retry.error as Error)?.message ?? retry.error)}`] : []),
        ];
        return { ready: status.ready, ...(details.length > 0 ? { detail: details.join('; ') } : {}) };
      },
    });
    return {
      onRetry: (notice) => {
        if (notice.settled) {
          this.retrying.delete(group);
          this.deps.metrics.consumerRetrying.set({ group }, 0);
          return;
        }
        this.retrying.set(group, notice);
        this.deps.metrics.consumerRetrying.set({ group }, 1);
        this.deps.metrics.consumerRetries.inc({ group, kind: notice.kind });
      },
      onDeadLetter: (message) => {
        this.deps.metrics.messagesConsumed.inc({ group, type: typeOf(message), outcome: 'dead-lettered' });
      },
    };
  }

  private route(key: string, pattern: () => MsPattern): MessageHandler | null {
    let handler = this.routes.get(key);
    if (handler === undefined) {
      handler = this.getHandlerByPattern(this.normalizePattern(pattern()));
      // Types nobody handles are not remembered: a hostile producer could make the map grow without end.
      if (handler !== null || this.routes.size < 1_000) this.routes.set(key, handler);
    }
    return handler;
  }

  private async consumeEvents(service: ServiceName): Promise<void> {
    const group = CONSUMER_GROUPS[service];
    // One inbox per service, however often its start is tried.
    let inbox = this.inboxOf.get(service);
    if (!inbox) {
      inbox = new Inbox(join(this.deps.config.dataDir, `${service}-inbox.sqlite`));
      this.inboxOf.set(service, inbox);
      this.inboxes.push(inbox);
    }
    const once = inbox;
    const hooks = this.track(group);
    if (this.closing) return;
    const consumer = await this.deps.bus.consume({
      groupId: group,
      topic: TOPICS.events,
      ...hooks,
      handler: async (message, context) => {
        const event = decodeEvent(message);
        const handler = this.route(`event:${service}:${event.type}`, () => registryEvent(service, event.type));
        // An event this service does not handle has no effect to deduplicate: no inbox write (and no fsync) for it.
        if (!handler) {
          this.deps.metrics.messagesConsumed.inc({ group, type: event.type, outcome: 'ignored' });
          return;
        }
        const outcome = await once.once(group, event.metadata.eventId, event.type, () => invoke<RecordedEvent>(handler, event, new BusContext([message, context])));
        this.deps.metrics.messagesConsumed.inc({ group, type: event.type, outcome });
        if (outcome === 'duplicate') this.log.debug(`skipped redelivered ${event.type} ${event.metadata.eventId}`);
      },
    });
    this.consumers.push(consumer);
    this.running.set(group, consumer);
  }

  private async consumeCommands(): Promise<void> {
    const group = CONSUMER_GROUPS.registry;
    const hooks = this.track(group);
    if (this.closing) return;
    const consumer = await this.deps.bus.consume({
      groupId: group,
      topic: TOPICS.commands,
      ...hooks,
      handler: async (message, context) => {
        const type = commandTypeOf(message);
        const handler = this.route(`command:${type}`, () => serviceCommand(type));
        if (!handler) throw new PoisonMessageError(`unknown command type ${type.slice(0, 100)}`);
        await invoke<IncomingMessage>(handler, message, new BusContext([message, context]));
        this.deps.metrics.messagesConsumed.inc({ group, type, outcome: 'handled' });
      },
    });
    this.consumers.push(consumer);
    this.running.set(group, consumer);
  }

  /**
   * Training platforms' events (`mrw.training.events.v1`), in their own group: dispatched by
   * the body's `type`; the handler authenticates the producer and deduplicates by run id.
   */
  private async consumeTrainingEvents(): Promise<void> {
    const group = CONSUMER_GROUPS.trainingEvents;
    const hooks = this.track(group);
    if (this.closing) return;
    const known = this.patterns().flatMap((p) => (p.training ? [p.training] : []));
    const consumer = await this.deps.bus.consume({
      groupId: group,
      topic: TOPICS.trainingEvents,
      ...hooks,
      handler: async (message, context) => {
        const type = trainingEventTypeOf(message, known);
        const handler = this.route(`training:${type}`, () => trainingEvent(type));
        if (!handler) throw new PoisonMessageError(`INVALID_EVENT: no handler for ${type}`);
        await invoke<IncomingMessage>(handler, message, new BusContext([message, context]));
        this.deps.metrics.messagesConsumed.inc({ group, type, outcome: 'handled' });
      },
    });
    this.consumers.push(consumer);
    this.running.set(group, consumer);
  }
}

/** Runs a Nest message handler to completion (its result may be a promise of an observable). */
const invoke = async <T>(handler: MessageHandler, payload: T, context: BusContext): Promise<void> => {
  const result: unknown = await handler(payload, context);
  if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
};

/** A command's type, from its body (what the registry will decide on), never from a header alone. */
const commandTypeOf = (message: IncomingMessage): string => {
  let body: { type?: unknown };
  try {
    body = JSON.parse(message.value) as { type?: unknown };
  } catch (error) {
    throw new PoisonMessageError(`command is not JSON: ${(error as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || typeof body.type !== 'string') throw new PoisonMessageError('command has no type');
  return body.type.slice(0, 100);
};

/** A training event's type, from its body: one of the types the registry handles, or the message is malformed. */
const trainingEventTypeOf = (message: IncomingMessage, known: readonly string[]): string => {
  let body: { type?: unknown };
  try {
    body = JSON.parse(message.value) as { type?: unknown };
  } catch (error) {
    throw new PoisonMessageError(`INVALID_EVENT: the event is not JSON: ${(error as Error).message}`);
  }
  const type = typeof body === 'object' && body !== null ? body.type : undefined;
  if (typeof type !== 'string' || !known.includes(type)) {
    throw new PoisonMessageError(`INVALID_EVENT: type must be one of ${known.join(', ')}; got ${JSON.stringify(type ?? null)?.slice(0, 100)}`);
  }
  return type;
};

/** A message's type from its headers, or its JSON body's `type`; `unknown` when it has none. */
const typeOf = (message: IncomingMessage): string => {
  const fromHeader = message.headers[HEADERS.eventType] ?? message.headers[HEADERS.commandType];
  if (fromHeader) return fromHeader.slice(0, 100);
  try {
    const body = JSON.parse(message.value) as { type?: unknown };
    return typeof body.type === 'string' ? body.type.slice(0, 100) : 'unknown';
  } catch {
    return 'unknown';
  }
};

const describe = (message: IncomingMessage): string => `${typeOf(message)} on ${message.key ?? '?'} (${message.topic} ${message.partition}/${message.offset})`;
