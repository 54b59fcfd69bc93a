export * from './event-store.port';
export { assertAppendFits, MAX_APPEND_BYTES, MAX_EVENT_DEPTH } from './append-limits';
export { backoffDelayMs, type BackoffOptions } from './backoff';
export {
  canonicalJson,
  chainEncodedEvents,
  chainEvents,
  computeEventHash,
  verifyChain,
  type ChainedEvent,
  type ChainVerification,
  type EncodedChainedEvent,
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
