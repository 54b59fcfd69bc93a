import type { Clock, DurableTimers, RegistryCommands } from '@mrw/platform';
import type { ArchivalBook } from '../follow-models/archival-book';
import type { LiveMetricSamples } from '../record-live-metrics/live-metric-samples';
import { ArchivalScheduler } from './archival-scheduler';

describe('re-planning a model as its events arrive', () => {
  let scheduler: ArchivalScheduler;
  let planned: string[];

  beforeEach(() => {
    jest.useFakeTimers();
    const timers = { on: () => undefined, schedule: () => 'unchanged' } as unknown as DurableTimers;
    const clock = { now: () => new Date() } as Clock;
    scheduler = new ArchivalScheduler(timers, clock, {} as LiveMetricSamples, { get: () => undefined } as unknown as ArchivalBook, {} as RegistryCommands);
    planned = [];
    const replan = scheduler.replan.bind(scheduler);
    jest.spyOn(scheduler, 'replan').mockImplementation((model: string) => {
      planned.push(model);
      replan(model);
    });
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('plans at once the first time, then at most once per 100 ms per model, however many events arrive', () => {
    scheduler.replanSoon('fraud');
    scheduler.replanSoon('fraud');
    jest.advanceTimersByTime(0);
    expect(planned).toEqual(['fraud']);

    // A burst within the next 100 ms: one more plan, when the 100 ms are up.
    for (let i = 0; i < 50; i += 1) scheduler.replanSoon('fraud');
    jest.advanceTimersByTime(99);
    expect(planned).toEqual(['fraud']);
    jest.advanceTimersByTime(1);
    expect(planned).toEqual(['fraud', 'fraud']);
  });

  it('keeps models apart: another model is planned at once', () => {
    scheduler.replanSoon('fraud');
    jest.advanceTimersByTime(0);
    scheduler.replanSoon('fraud');
    scheduler.replanSoon('churn');
    jest.advanceTimersByTime(0);
    expect(planned).toEqual(['fraud', 'churn']);
    jest.advanceTimersByTime(100);
    expect(planned).toEqual(['fraud', 'churn', 'fraud']);
  });

  it('drops what is still waiting at shutdown (the next start plans every model)', () => {
    scheduler.replanSoon('fraud');
    jest.advanceTimersByTime(0);
    scheduler.replanSoon('fraud');
    scheduler.onApplicationShutdown();
    jest.advanceTimersByTime(1_000);
    expect(planned).toEqual(['fraud']);
  });
});
