import { createValidationPipe, ProblemException } from '@mrw/platform';
import { SetPolicyDto } from './set-policy.dto';
import { toPolicy } from './set-policy.http.controller';

/** The body as the global pipe hands it to the controller (unknown fields refused, DTOs built). */
const validated = (body: unknown): Promise<SetPolicyDto> =>
  createValidationPipe().transform(body, { type: 'body', metatype: SetPolicyDto, data: '' }) as Promise<SetPolicyDto>;

const fieldsOf = async (body: unknown): Promise<string[]> => {
  try {
    await validated(body);
  } catch (error) {
    if (error instanceof ProblemException) return (error.extensions?.['errors'] as Array<{ field: string }>).map((e) => e.field);
    throw error;
  }
  return [];
};

describe('PUT /models/{name}/policy: the archival part', () => {
  it('passes every archival rule through to the stored policy, exactly as given', async () => {
    const archival = {
      supersededAfter: 'PT5S',
      staleAfter: 'P90D',
      keepAtMost: 3,
      keepRollbackTarget: false,
      archivePreviousOnSuccess: false,
      liveMetric: { metric: 'p99_latency_ms', above: 250, for: 'PT10S', minSamples: 2, rollback: true },
    };
    const { policy, problems } = toPolicy(await validated({ archival }));
    expect(problems).toEqual([]);
    expect(policy.archival).toEqual(archival);
    // No field the caller did not send: a stored policy reads back as it was set.
    expect(Object.keys(policy.archival ?? {}).sort()).toEqual(Object.keys(archival).sort());
    expect(Object.keys(policy.archival?.liveMetric ?? {}).sort()).toEqual(['above', 'for', 'metric', 'minSamples', 'rollback']);
  });

  it('keeps the legacy supersededAfterDays alone', async () => {
    const { policy } = toPolicy(await validated({ archival: { supersededAfterDays: 30 } }));
    expect(policy.archival).toStrictEqual({ supersededAfterDays: 30 });
  });

  it('refuses unknown fields inside archival and liveMetric, and wrong types, field by field', async () => {
    expect(await fieldsOf({ archival: { supersededAfter: 'P1D', retireAfter: 'P1D' } })).toEqual(['archival.retireAfter']);
    expect(await fieldsOf({ archival: { liveMetric: { metric: 'accuracy', below: 0.8, for: 'PT1H', threshold: 0.8 } } })).toEqual([
      'archival.liveMetric.threshold',
    ]);
    expect(await fieldsOf({ archival: { keepAtMost: 0, liveMetric: { metric: '9 lives', below: '0.8', for: 'PT1H', minSamples: 1.5 } } })).toEqual([
      'archival.keepAtMost',
      'archival.liveMetric.metric',
      'archival.liveMetric.below',
      'archival.liveMetric.minSamples',
    ]);
  });

  it('refuses a list where a part of the policy is an object, and anything but objects in a list of them (a fuzzer found `"approval": [{}]` reaching the rules)', async () => {
    expect(await fieldsOf({ approval: [{}] })).toEqual(['approval']);
    expect(await fieldsOf({ archival: { liveMetric: [] } })).toEqual(['archival.liveMetric']);
    // The list's items are still checked, and their problems listed too.
    expect(await fieldsOf({ approval: { Production: [{ required: 1 }] } })).toEqual(expect.arrayContaining(['approval.Production']));
    expect(await fieldsOf({ deployment: { targets: [[{ kind: 'http', environment: 'prod' }]] } })).toEqual(['deployment.targets']);
    expect(await fieldsOf({ approval: { Production: { required: 1, reviewers: ['role:reviewer'], expiresIn: 'P1D', notify: ['slack'] } } })).toEqual(
      expect.arrayContaining(['approval.Production.notify']),
    );
  });
});
