export * from './event-store.port';
export { assertAppendFits, encodeAppend, MAX_APPEND_BYTES, MAX_EVENT_DEPTH, type EncodedEvent } from './encode-append';
export { backoffDelayMs, type BackoffOptions } from './backoff';
export { canonicalJson } from './canonical-json';
export { CaughtUpWaiters } from './subscription-support';
export {
  chainEncodedEvents,
  chainEvents,
  computeEventHash,
  verifyChain,
  type ChainedEvent,
  type ChainVerification,
  type ChainedRow,
  type HashableEvent,
} from './hash-chain';
export { SqliteEventStore, type SqliteEventStoreOptions } from './sqlite/sqlite-event-store.adapter';
export { PostgresEventStore, type PostgresEventStoreOptions } from './postgres/postgres-event-store.adapter';
export {
  EventStoreDbEventStore,
  openEventStoreDb,
  type EventStoreDbClientLike,
  type EventStoreDbEventStoreOptions,
  type OpenEventStoreDbOptions,
} from './eventstoredb/eventstoredb-event-store.adapter';
