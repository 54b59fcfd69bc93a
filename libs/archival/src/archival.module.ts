import { join } from 'node:path';
import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { durableTimersProviders, SUITE_CONFIG, type SuiteConfig } from '@mrw/platform';
import { ArchivalBusController } from './archival.bus.controller';
import { ARCHIVAL_TIMERS, ArchivalScheduler, LIVE_METRIC_SAMPLES } from './apply-policies/archival-scheduler';
import { ArchivalBook } from './follow-models/archival-book';
import { ArchivalPreviewController } from './preview-archival/archival-preview.http.controller';
import { LiveMetricSamples } from './record-live-metrics/live-metric-samples';
import { LiveMetricsController } from './record-live-metrics/live-metrics.http.controller';

/**
 * The archival service: consumer group `mrw-archival` on the registry's events, what it knows
 * of every model (folded from the log), live metrics from monitoring, its durable timers, and
 * the preview and backtest of policies.
 */
@Module({
  controllers: [ArchivalBusController, LiveMetricsController, ArchivalPreviewController],
  providers: [
    ArchivalBook,
    {
      provide: LIVE_METRIC_SAMPLES,
      inject: [SUITE_CONFIG],
      useFactory: (config: SuiteConfig) => new LiveMetricSamples(join(config.dataDir, 'archival-live-metrics.sqlite')),
    },
    ...durableTimersProviders(ARCHIVAL_TIMERS, 'archival'),
    ArchivalScheduler,
  ],
  exports: [ArchivalScheduler, ARCHIVAL_TIMERS],
})
export class ArchivalModule implements OnApplicationShutdown {
  constructor(@Inject(LIVE_METRIC_SAMPLES) private readonly samples: LiveMetricSamples) {}

  onApplicationShutdown(): void {
    this.samples.close();
  }
}
