export { describeEventStoreConformance, type EventStoreFixture } from './event-store.conformance';
export { waitFor } from './wait-for';
export { testEvent } from './test-event';
export { describeWithPostgres, dropTestSchema, POSTGRES_SKIP_REASON, testPostgresUrl, uniqueSchema } from './postgres-for-tests';
