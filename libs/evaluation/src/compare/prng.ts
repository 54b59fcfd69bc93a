import { EvaluationInputError } from '../errors';

/**
 * xoshiro128** 1.1 (Blackman & Vigna), 32-bit output, state seeded with four outputs of
 * splitmix32 from a 32-bit seed. Deterministic across platforms and Node versions (integer
 * arithmetic only); reference/make_reference.py implements the same generator and the specs
 * check its first outputs.
 */
export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(readonly seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new EvaluationInputError(`seed must be an integer in 0..2^32-1, got ${seed}`);
    }
    let a = seed | 0;
    const splitmix32 = (): number => {
      a = (a + 0x9e3779b9) | 0;
      let t = a ^ (a >>> 16);
      t = Math.imul(t, 0x21f0aaad);
      t ^= t >>> 15;
      t = Math.imul(t, 0x735a2d97);
      return (t ^ (t >>> 15)) >>> 0;
    };
    this.s0 = splitmix32();
    this.s1 = splitmix32();
    this.s2 = splitmix32();
    this.s3 = splitmix32();
  }

  /** Next uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /**
   * One bootstrap resample as a multinomial weight vector: n draws of a row index, uniform
   * over 0..n-1, counted into `counts` (cleared first). O(n), no allocation. `draws` other
   * than n is for tests.
   * Index = ⌊u·n / 2³²⌋ for a 32-bit draw u (Lemire's multiply-shift without rejection; the
   * bias is below n / 2³², i.e. < 0.03% for a million rows).
   */
  multinomialCounts(counts: Float64Array | Uint16Array, draws = counts.length): void {
    const n = counts.length;
    counts.fill(0);
    let s0 = this.s0;
    let s1 = this.s1;
    let s2 = this.s2;
    let s3 = this.s3;
    if (n <= 1 << 21) {
      // u·n < 2^53: one float multiply and a truncation are exact
      for (let i = 0; i < draws; i++) {
        const m = Math.imul(s1, 5);
        const u = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
        const t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = (s3 << 11) | (s3 >>> 21);
        counts[((u * n) / 4294967296) | 0]! += 1;
      }
    } else {
      // ⌊u·n / 2^32⌋ without a 64-bit product: split n into 16-bit halves
      const nLo = n & 0xffff;
      const nHi = n >>> 16;
      for (let i = 0; i < draws; i++) {
        const m = Math.imul(s1, 5);
        const u = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
        const t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = (s3 << 11) | (s3 >>> 21);
        counts[Math.floor((u * nHi + Math.floor((u * nLo) / 65536)) / 65536)]! += 1;
      }
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  /**
   * multinomialCounts into 16-bit counters (the bootstrap's fast path). Returns false, with
   * the generator rewound to where it was, if a count wrapped past 65535 (possible only for
   * n > 65535, and then with probability below n·(e/65536)^65536); the caller then draws
   * the same resample into a Float64Array.
   */
  multinomialCounts16(counts: Uint16Array): boolean {
    const state = [this.s0, this.s1, this.s2, this.s3] as const;
    this.multinomialCounts(counts);
    if (counts.length < 65536) return true;
    let total = 0;
    for (let i = 0; i < counts.length; i++) total += counts[i] as number;
    if (total === counts.length) return true;
    [this.s0, this.s1, this.s2, this.s3] = state;
    return false;
  }
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));
