export * from './failure-kind';
export * from './backoff';
