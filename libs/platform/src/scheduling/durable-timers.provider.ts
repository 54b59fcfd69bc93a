import { join } from 'node:path';
import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { SUITE_CONFIG, type SuiteConfig } from '../config/config';
import { CLOCK, type Clock } from '../persistence/clock';
import { DurableTimers } from './durable-timers';

/** The timer file of a service: `<dataDir>/<service>-timers.sqlite`, beside its inbox. */
export const timersFile = (dataDir: string, service: string): string => join(dataDir, `${service}-timers.sqlite`);

/**
 * Provides a service's `DurableTimers` under `token`, on the platform's clock, with its life
 * cycle: the owning module's providers register their handlers when they are built; the timers
 * start once the app is up, stop before the bus closes (a run in progress finishes sending what
 * it sends) and close their file after it.
 */
export const durableTimersProviders = (token: symbol | string, service: string): Provider[] => {
  @Injectable()
  class DurableTimersLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
    constructor(@Inject(token) private readonly timers: DurableTimers) {}

    onApplicationBootstrap(): void {
      this.timers.start();
    }

    async beforeApplicationShutdown(): Promise<void> {
      await this.timers.stop();
    }

    async onApplicationShutdown(): Promise<void> {
      await this.timers.close();
    }
  }
  return [
    {
      provide: token,
      useFactory: (config: SuiteConfig, clock: Clock) => new DurableTimers({ file: timersFile(config.dataDir, service), clock }),
      inject: [SUITE_CONFIG, CLOCK],
    },
    DurableTimersLifecycle,
  ];
};
