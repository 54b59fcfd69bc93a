export * from './registry.module';
export { RegistryStreams } from './application/registry-streams';
export { RegistryProjector } from './projections/registry-projector';
export { openReadModel } from './projections/read-model.database';
export { LogForwarder } from './forward-log/log-forwarder';
export { RegistryReadsModule, servedByReaders } from './serve-reads/registry-reads.module';
