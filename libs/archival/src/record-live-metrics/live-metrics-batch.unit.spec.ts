import { MAX_BATCH, parseLiveMetricsBatch } from './live-metrics-batch';

const now = new Date('2026-11-30T10:00:00Z');
const known = (v: number) => v === 1 || v === 2;
const sample = { version: 1, metric: 'accuracy', value: 0.91, at: '2026-11-30T09:59:00Z' };

describe('a live-metrics batch', () => {
  it('accepts well-formed samples, counting 1 where no count is given', () => {
    expect(parseLiveMetricsBatch([sample, { ...sample, version: 2, count: 500, at: '2026-11-30T09:59:30+01:00' }], known, now)).toEqual({
      samples: [
        { version: 1, metric: 'accuracy', value: 0.91, at: '2026-11-30T09:59:00.000Z', count: 1 },
        { version: 2, metric: 'accuracy', value: 0.91, at: '2026-11-30T08:59:30.000Z', count: 500 },
      ],
    });
  });

  it.each([
    ['not an array', { samples: [] }, 'body'],
    ['empty', [], 'body'],
    ['an unknown version', [{ ...sample, version: 9 }], '[0].version'],
    ['a version that is no integer', [{ ...sample, version: 1.5 }], '[0].version'],
    ['a bad metric name', [{ ...sample, metric: 'drop table' }], '[0].metric'],
    ['a value that is no number', [{ ...sample, value: '0.9' }], '[0].value'],
    ['an infinite value', [{ ...sample, value: Number.POSITIVE_INFINITY }], '[0].value'],
    ['a time without a zone', [{ ...sample, at: '2026-11-30T09:59:00' }], '[0].at'],
    ['a time far in the future', [{ ...sample, at: '2026-11-30T11:00:00Z' }], '[0].at'],
    ['a zero count', [{ ...sample, count: 0 }], '[0].count'],
    ['an unknown field', [{ ...sample, labels: {} }], '[0].labels'],
    ['a sample that is no object', [sample, 'x'], '[1]'],
  ])('refuses %s, saying where', (_, body, field) => {
    const parsed = parseLiveMetricsBatch(body, known, now);
    expect('problems' in parsed && parsed.problems.map((p) => p.field)).toContain(field);
  });

  it(`refuses more than ${MAX_BATCH} samples at once`, () => {
    expect(parseLiveMetricsBatch(new Array(MAX_BATCH + 1).fill(sample), known, now)).toMatchObject({ problems: [{ field: 'body' }] });
  });
});
