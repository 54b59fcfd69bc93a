/** Kafka topics (DESIGN section 5): lowercase, dot-separated, versioned. */
export const TOPICS = {
  /** Every registry event; key = stream name, so one version's events stay ordered. */
  events: 'mrw.registry.events.v1',
  /** Service → registry commands; key = target stream. */
  commands: 'mrw.registry.commands.v1',
  /** Training platforms → registry: finished training runs to register (`TrainingRunCompleted`); key = model. */
  trainingEvents: 'mrw.training.events.v1',
} as const;

export const TOPIC_PARTITIONS: Readonly<Record<string, number>> = {
  [TOPICS.events]: 6,
  [TOPICS.commands]: 6,
  [TOPICS.trainingEvents]: 6,
};

/** Where messages that cannot be handled go, with the reason in their headers. */
export const dlqOf = (topic: string): string => `${topic}.dlq`;

/** One consumer group per reacting service. */
export const CONSUMER_GROUPS = {
  registry: 'mrw-registry',
  /** The registry reading training platforms' events (its own group: kafkajs members of one group share one topic list). */
  trainingEvents: 'mrw-registry-training-events',
  evaluator: 'mrw-evaluator',
  approvals: 'mrw-approvals',
  archival: 'mrw-archival',
  deployer: 'mrw-deployer',
  /** The registry copying the Kafka DLQ topics into the log, where admins list and redrive them. */
  deadLetterIndex: 'mrw-registry-dead-letters',
} as const;

export const SERVICE_NAMES = ['evaluator', 'approvals', 'archival', 'deployer'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export const HEADERS = {
  eventType: 'event-type',
  eventId: 'event-id',
  correlationId: 'correlation-id',
  causationId: 'causation-id',
  stream: 'stream',
  revision: 'revision',
  commandType: 'command-type',
  commandId: 'command-id',
  authorization: 'authorization',
  dlqReason: 'dlq-reason',
  dlqGroup: 'dlq-consumer-group',
  dlqOrigin: 'dlq-origin',
  dlqAttempts: 'dlq-attempts',
  /** On a message sent again from the DLQ: the dead letter's id. */
  redrivenFrom: 'redriven-from',
} as const;

/**
 * Registry commands a service may send on `mrw.registry.commands.v1`. The registry checks
 * the sender's service identity against this list before deciding anything.
 */
export const SERVICE_COMMANDS: Readonly<Record<ServiceName, readonly string[]>> = {
  evaluator: ['RecordEvaluationProgress', 'RecordEvaluationResult', 'RecordEvaluationFailure'],
  approvals: ['GrantApproval', 'RejectApproval', 'ExpireApproval', 'RecordNotificationOutcome'],
  archival: ['ArchiveModelVersion', 'RecordLiveMetricBreach'],
  deployer: ['RecordDeploymentStarted', 'RecordDeploymentSucceeded', 'RecordDeploymentFailed', 'RecordShadowDeployment'],
};

/** A command message's value. The actor is the authenticated service, never a field. */
export interface CommandMessage {
  readonly commandId: string;
  readonly type: string;
  readonly model: string;
  readonly version: number;
  readonly data: Record<string, unknown>;
  readonly correlationId: string;
  readonly causationId: string | null;
}
