import { loadReference } from '../../reference/reference';
import { EvaluationInputError } from '../errors';
import { Xoshiro128 } from './prng';

const reference = loadReference().prng;

describe('Xoshiro128 (xoshiro128** seeded by splitmix32)', () => {
  it('produces the same stream as the Python implementation in make_reference.py', () => {
    const rng = new Xoshiro128(reference.seed);
    expect(Array.from({ length: reference.first.length }, () => rng.nextUint32())).toEqual(reference.first);
    const one = new Xoshiro128(1);
    expect(Array.from({ length: 4 }, () => one.nextUint32())).toEqual(reference.seed1);
  });

  it('draws the same multinomial counts as the Python implementation, in 64 or 16 bits', () => {
    const counts = new Float64Array(reference.counts.n);
    new Xoshiro128(reference.counts.seed).multinomialCounts(counts);
    expect(Array.from(counts)).toEqual(reference.counts.values);
    const counts16 = new Uint16Array(reference.counts.n);
    expect(new Xoshiro128(reference.counts.seed).multinomialCounts16(counts16)).toBe(true);
    expect(Array.from(counts16)).toEqual(reference.counts.values);
  });

  it('maps draws to rows exactly also above 2^21 rows (⌊u·n/2^32⌋ without a 64-bit product)', () => {
    const n = 2 ** 21 + 12_345;
    const counts = new Uint16Array(n);
    new Xoshiro128(3).multinomialCounts(counts, 20_000); // a sparse check: 20,000 draws
    const drawn = new Map<number, number>();
    counts.forEach((c, row) => {
      if (c > 0) drawn.set(row, c);
    });
    const expected = new Map<number, number>();
    const rng = new Xoshiro128(3);
    for (let i = 0; i < 20_000; i++) {
      const row = Number((BigInt(rng.nextUint32()) * BigInt(n)) >> 32n);
      expected.set(row, (expected.get(row) ?? 0) + 1);
    }
    expect(drawn).toEqual(expected);
  });

  it('is deterministic per seed and differs between seeds', () => {
    const draw = (seed: number) => {
      const c = new Uint16Array(1000);
      new Xoshiro128(seed).multinomialCounts16(c);
      return Array.from(c);
    };
    expect(draw(20261127)).toEqual(draw(20261127));
    expect(draw(20261127)).not.toEqual(draw(20261128));
    expect(draw(7).reduce((a, b) => a + b, 0)).toBe(1000);
  });

  it('refuses a seed that is not a 32-bit unsigned integer', () => {
    for (const seed of [-1, 1.5, 2 ** 32, NaN]) expect(() => new Xoshiro128(seed)).toThrow(EvaluationInputError);
  });
});
