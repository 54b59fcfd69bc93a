import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import type { EvaluationView } from '@mrw/domain';
import { ProblemException, RequireRole } from '@mrw/platform';
import { RegistryStreams } from '../application/registry-streams';
import { parseModelName, parseVersion } from '../shared/http-params';

export class CompareQuery {
  @ApiProperty({ example: '3,4', description: 'two or more versions, comma-separated' })
  @IsString()
  @Matches(/^[1-9][0-9]{0,8}(,[1-9][0-9]{0,8})+$/, { message: 'versions must be two or more version numbers, e.g. 3,4' })
  versions!: string;
}

/** Metrics of several versions side by side, from evaluations on one and the same set version. */
@ApiTags('versions')
@ApiBearerAuth()
@RequireRole('viewer')
@Controller('api/v1/models/:name/compare')
export class CompareVersionsController {
  constructor(private readonly streams: RegistryStreams) {}

  @Get()
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
