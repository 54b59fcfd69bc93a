export * from './archival.module';
export { ArchivalScheduler, ARCHIVAL_TIMERS } from './apply-policies/archival-scheduler';
