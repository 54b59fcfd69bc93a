export * from './event-store.port';
export {
  canonicalJson,
  chainEvents,
  computeEventHash,
  verifyChain,
  type ChainedEvent,
  type ChainVerification,
  type HashableEvent,
} from './hash-chain';
export { SqliteEventStore, type SqliteEventStoreOptions } from './sqlite/sqlite-event-store.adapter';
export {
  EventStoreDbEventStore,
  openEventStoreDb,
  type EventStoreDbClientLike,
  type EventStoreDbEventStoreOptions,
  type OpenEventStoreDbOptions,
} from './eventstoredb/eventstoredb-event-store.adapter';
