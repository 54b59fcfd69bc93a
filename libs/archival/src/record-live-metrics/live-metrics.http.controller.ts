import { Body, Controller, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiBody, ApiParam, ApiTags } from '@nestjs/swagger';
import { MODEL_NAME_PATTERN } from '@mrw/contracts';
import { CLOCK, ModelScope, ProblemException, RequireRole, type Clock } from '@mrw/platform';
import { ArchivalScheduler, LIVE_METRIC_SAMPLES } from '../apply-policies/archival-scheduler';
import { ArchivalBook } from '../follow-models/archival-book';
import { MAX_BATCH, METRIC_NAME, parseLiveMetricsBatch } from './live-metrics-batch';
import type { LiveMetricSamples } from './live-metric-samples';

/**
 * `POST /api/v1/models/{name}/live-metrics`: what monitoring measures of the versions in use
 * (Prometheus-style exporters, batch jobs). A batch is checked whole and kept whole, or refused
 * whole with the problems; the model's archival plan is made again at once, so a window is
 * judged as data arrives (and on the clock, by the timers).
 */
@ApiTags('archival')
@ApiBearerAuth()
@Controller('api/v1/models/:name/live-metrics')
export class LiveMetricsController {
  constructor(
    private readonly book: ArchivalBook,
    private readonly scheduler: ArchivalScheduler,
    @Inject(LIVE_METRIC_SAMPLES) private readonly samples: LiveMetricSamples,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post()
  @HttpCode(202)
  @RequireRole('contributor')
  @ModelScope({ param: 'name' })
  @ApiParam({ name: 'name', schema: { type: 'string', pattern: MODEL_NAME_PATTERN.source } })
  @ApiBody({
    schema: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_BATCH,
      items: {
        type: 'object',
        required: ['version', 'metric', 'value', 'at'],
        additionalProperties: false,
        properties: {
          version: { type: 'integer', minimum: 1 },
          metric: { type: 'string', pattern: METRIC_NAME.source, example: 'accuracy' },
          value: { type: 'number', example: 0.91 },
          at: { type: 'string', format: 'date-time' },
          count: { type: 'integer', minimum: 1, description: 'how many observations the value sums up (default 1)' },
        },
      },
    },
  })
  @ApiAcceptedResponse({
    description: 'Accepted: the samples are kept and the archival plan made again',
    schema: {
      type: 'object',
      required: ['model', 'accepted'],
      properties: { model: { type: 'string' }, accepted: { type: 'integer', minimum: 1, description: 'samples kept' } },
    },
  })
  async record(@Param('name') name: string, @Body() body: unknown) {
    if (!MODEL_NAME_PATTERN.test(name)) throw new ProblemException('MODEL_NOT_FOUND', `no model ${name}`, {}, 404);
    await this.book.caughtUp();
    const facts = this.book.get(name);
    if (!facts || facts.versions.size === 0) {
      if (!facts) throw new ProblemException('MODEL_NOT_FOUND', `no model ${name}`, {}, 404);
    }
    const parsed = parseLiveMetricsBatch(body, (version) => facts?.versions.has(version) === true, this.clock.now());
    if ('problems' in parsed) {
      throw new ProblemException('VALIDATION_FAILED', `the batch is refused whole: ${parsed.problems.length} problem(s), first ${parsed.problems[0]?.field} ${parsed.problems[0]?.message}`, { errors: parsed.problems }, 400);
    }
    this.samples.add(name, parsed.samples);
    this.scheduler.replan(name);
    return { model: name, accepted: parsed.samples.length };
  }
}
