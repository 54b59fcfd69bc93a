import { join } from 'node:path';
import type { FactoryProvider } from '@nestjs/common';
import { SUITE_CONFIG, type SuiteConfig } from '../config/config';
import { CLOCK, type Clock } from '../persistence/clock';
import { DurableTimers } from './durable-timers';

/** The timer file of a service: `<dataDir>/<service>-timers.sqlite`, beside its inbox. */
export const timersFile = (dataDir: string, service: string): string => join(dataDir, `${service}-timers.sqlite`);

/**
 * Provides a service's `DurableTimers` under `token`, on the platform's clock. The owning
 * module registers its handlers, calls `start()` once the app is up and `stop()`/`close()`
 * on shutdown.
 */
export const durableTimersProvider = (token: symbol | string, service: string): FactoryProvider<DurableTimers> => ({
  provide: token,
  useFactory: (config: SuiteConfig, clock: Clock) => new DurableTimers({ file: timersFile(config.dataDir, service), clock }),
  inject: [SUITE_CONFIG, CLOCK],
});
