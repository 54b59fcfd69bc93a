export * from './kafka-for-tests';
