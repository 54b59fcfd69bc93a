import { Body, Controller, Get, HttpCode, Inject, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsObject, IsString, Matches } from 'class-validator';
import { MODEL_NAME_PATTERN, modelStream, modelVersionStream, type ModelPolicy } from '@mrw/contracts';
import { EVENT_STORE, type EventStore, type RecordedEvent } from '@mrw/event-store';
import { ApiProblems, CLOCK, ModelScope, ProblemException, QueryText, RequireRole, type Clock } from '@mrw/platform';
import { ArchivalScheduler, LIVE_METRIC_SAMPLES } from '../apply-policies/archival-scheduler';
import { ArchivalBook } from '../follow-models/archival-book';
import { archivalPolicyProblems, backtest } from '../plan-archival';
import type { LiveMetricSamples } from '../record-live-metrics/live-metric-samples';

export class PreviewQuery {
  @QueryText({ maxLength: 128, pattern: MODEL_NAME_PATTERN, example: 'churn' })
  model?: string;
}

export class BacktestDto {
  @ApiProperty({ example: 'churn' })
  @IsString()
  @Matches(MODEL_NAME_PATTERN, { message: 'model must be a model name' })
  model!: string;

  @ApiProperty({ example: { archival: { supersededAfter: 'P14D', keepAtMost: 5 } }, description: 'a whole policy, as PUT /models/{name}/policy takes it; only its archival part matters' })
  @IsObject()
  policy!: ModelPolicy;
}

/**
 * Transparency: what the archival policy would do now and next (`preview`), and what a proposed
 * policy would have done over the model's history (`backtest`), both by the very planner the
 * timers use — so an operator can try a policy before setting it.
 */
@ApiTags('archival')
@ApiBearerAuth()
@Controller('api/v1/archival')
export class ArchivalPreviewController {
  constructor(
    private readonly book: ArchivalBook,
    private readonly scheduler: ArchivalScheduler,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(LIVE_METRIC_SAMPLES) private readonly samples: LiveMetricSamples,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get('preview')
  @RequireRole('viewer')
  @ModelScope({ query: 'model' })
  @ApiOkResponse({ description: 'Due now, due next (with when and why), live-metric breaches, and what is protected' })
  @ApiProblems(404)
  async preview(@Query() query: PreviewQuery) {
    if (!query.model) throw new ProblemException('VALIDATION_FAILED', 'give the model: ?model=<name>', { errors: [{ field: 'model', message: 'required' }] }, 400);
    await this.book.caughtUp();
    const now = this.clock.now();
    const plan = this.scheduler.planOf(query.model, now);
    if (!plan) throw new ProblemException('MODEL_NOT_FOUND', `no model ${query.model}`, {}, 404);
    return { model: query.model, at: now.toISOString(), ...plan };
  }

  @Post('backtest')
  @HttpCode(200)
  @RequireRole('viewer')
  @ModelScope({ body: 'model' })
  @ApiOkResponse({ description: 'What the policy would have archived, when and why, over the model’s history up to now' })
  @ApiProblems(404)
  async backtest(@Body() body: BacktestDto) {
    const problems = archivalPolicyProblems(body.policy);
    if (problems.length > 0) throw new ProblemException('INVALID_POLICY', `the policy is not valid: ${problems[0]?.field} ${problems[0]?.message}`, { errors: problems }, 400);
    await this.book.caughtUp();
    const facts = this.book.get(body.model);
    if (!facts) throw new ProblemException('MODEL_NOT_FOUND', `no model ${body.model}`, {}, 404);
    const streams = [modelStream(body.model), ...[...facts.versions.keys()].map((v) => modelVersionStream(body.model, v))];
    const events = (await Promise.all(streams.map((s) => this.store.readStream(s)))).flat().sort((a: RecordedEvent, b: RecordedEvent) => (a.position < b.position ? -1 : 1));
    const until = this.clock.now().toISOString();
    const result = backtest(
      events.map((e) => ({ type: e.type, data: e.data, streamName: e.streamName, occurredAt: e.metadata.occurredAt })),
      this.samples.all(body.model),
      body.policy,
      until,
    );
    return { model: body.model, until, ...result };
  }
}
