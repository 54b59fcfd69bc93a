import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { EvaluationView } from '@mrw/domain';
import { ApiProblems, ModelScope, ProblemException, QueryText, RequireRole } from '@mrw/platform';
import { RegistryStreams } from '../application/registry-streams';
import { COMPARISON_SCHEMA } from '../shared/api-schemas';
import { ApiPathParams, parseModelName, parseVersion } from '../shared/http-params';

export class CompareQuery {
  @QueryText({
    required: true,
    maxLength: 200,
    pattern: /^[1-9][0-9]{0,8}(,[1-9][0-9]{0,8})+$/,
    example: '3,4',
    description: 'two or more versions, comma-separated',
  })
  versions!: string;
}

/** Metrics of several versions side by side, from evaluations on one and the same set version. */
@ApiTags('versions')
@ApiBearerAuth()
@RequireRole('viewer')
@ModelScope({ param: 'name' })
@Controller('api/v1/models/:name/compare')
export class CompareVersionsController {
  constructor(private readonly streams: RegistryStreams) {}

  @Get()
  @ApiOkResponse({ description: 'Metrics side by side, from evaluations on one set version', schema: COMPARISON_SCHEMA })
  @ApiPathParams.name()
  // Versions without a completed evaluation on a common set version cannot be compared.
  @ApiProblems(409)
  async compare(@Param('name') rawName: string, @Query() query: CompareQuery) {
    const name = parseModelName(rawName);
    await this.streams.existingModel(name);
    const numbers = [...new Set(query.versions.split(',').map(parseVersion))];
    const completed = await Promise.all(
      numbers.map(async (v) => ({
        version: v,
        evaluations: (await this.streams.existingVersion(name, v)).evaluations.filter((e) => e.status === 'completed'),
      })),
    );
    // The newest set version every compared version was evaluated on.
    const digests = completed.map((c) => new Set(c.evaluations.map((e) => e.set.digest)));
    const common = [...(completed[0]?.evaluations ?? [])]
      .reverse()
      .map((e) => e.set.digest)
      .find((digest) => digests.every((d) => d.has(digest)));
    if (!common) {
      throw new ProblemException(
        'NO_COMMON_EVALUATION',
        `versions ${numbers.join(', ')} have no completed evaluation on a common set version: request an evaluation of each on the current set`,
        { versions: completed.map((c) => ({ version: c.version, sets: c.evaluations.map((e) => e.set) })) },
      );
    }
    const chosen = completed.map((c) => ({
      version: c.version,
      evaluation: [...c.evaluations].reverse().find((e) => e.set.digest === common) as EvaluationView,
    }));
    const names = [...new Set(chosen.flatMap((c) => Object.keys(c.evaluation.metrics)))].sort();
    return {
      model: name,
      set: chosen[0]?.evaluation.set,
      versions: chosen.map((c) => ({
        version: c.version,
        evaluationId: c.evaluation.id,
        finishedAt: c.evaluation.finishedAt,
        verdict: c.evaluation.verdict,
      })),
      metrics: Object.fromEntries(
        names.map((metric) => [metric, Object.fromEntries(chosen.map((c) => [String(c.version), c.evaluation.metrics[metric] ?? null]))]),
      ),
    };
  }
}
