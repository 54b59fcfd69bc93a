export * from './message-bus.port';
export * from './delivery';
export * from './event-codec';
export * from './idempotent-consumer';
export { KafkaMessageBus, type KafkaBusOptions } from './kafka/kafka-message-bus.adapter';
export { EmbeddedMessageBus } from './embedded/embedded-message-bus.adapter';
export * from './dead-letters';
