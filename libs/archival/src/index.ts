export * from './archival.module';
