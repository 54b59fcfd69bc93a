/**
 * Argsort of float64 keys by LSD radix sort on their IEEE-754 bits: O(n), stable, no
 * comparator calls, no per-row allocation. -0 sorts with +0 (equal keys), NaN is refused by
 * the callers before they get here.
 *
 * The 64-bit key is mapped to an unsigned order-preserving key (flip all bits of negative
 * numbers, flip only the sign bit of the others), then sorted by six 11-bit digits; a digit
 * on which every key agrees is skipped (probabilities share their top bits, so about half
 * the passes usually go).
 */

const DIGIT_BITS = 11;
const BUCKETS = 1 << DIGIT_BITS;
const MASK = BUCKETS - 1;
// (word, shift) of each digit, least significant first: lo[0..10], lo[11..21], lo[22..31], hi...
const DIGITS: ReadonlyArray<readonly [0 | 1, number]> = [
  [0, 0],
  [0, 11],
  [0, 22],
  [1, 0],
  [1, 11],
  [1, 22],
];

/** Small inputs: a comparator sort is faster than six histogram passes. */
const SMALL = 256;

export interface SortedKeys {
  /** Original positions, in ascending key order. */
  readonly order: Int32Array;
  /** 1 where the key differs from the previous one in sorted order (a new tie group), else 0. */
  readonly newGroup: Uint8Array;
}

export function argsortFloat64(values: Float64Array): SortedKeys {
  const n = values.length;
  const order = new Int32Array(n);
  if (n <= SMALL) {
    for (let i = 0; i < n; i++) order[i] = i;
    const idx = Array.from(order);
    idx.sort((a, b) => (values[a] as number) - (values[b] as number) || a - b);
    order.set(idx);
  } else {
    radix(values, order);
  }
  const newGroup = new Uint8Array(n);
  for (let j = 0; j < n; j++) {
    // -0 === 0, so -0 and +0 share a tie group, as they do in sklearn.
    newGroup[j] = j === 0 || values[order[j] as number] !== values[order[j - 1] as number] ? 1 : 0;
  }
  return { order, newGroup };
}

const LITTLE_ENDIAN = new Uint16Array(new Uint32Array([1]).buffer)[0] === 1;

function radix(values: Float64Array, order: Int32Array): void {
  if (!LITTLE_ENDIAN) throw new Error('argsortFloat64 reads float64 words as little-endian');
  const n = values.length;
  const words = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  let lo = new Uint32Array(n);
  let hi = new Uint32Array(n);
  let idx = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let l = words[2 * i] as number; // little-endian: low word first
    let h = words[2 * i + 1] as number;
    if (l === 0 && h === 0x80000000) h = 0; // -0 → +0
    if (h & 0x80000000) {
      h = ~h >>> 0;
      l = ~l >>> 0;
    } else {
      h = (h | 0x80000000) >>> 0;
    }
    lo[i] = l;
    hi[i] = h;
    idx[i] = i;
  }

  const counts = new Int32Array(DIGITS.length * BUCKETS);
  for (let i = 0; i < n; i++) {
    const l = lo[i] as number;
    const h = hi[i] as number;
    counts[(l & MASK) as number]!++;
    counts[BUCKETS + ((l >>> 11) & MASK)]!++;
    counts[2 * BUCKETS + (l >>> 22)]!++;
    counts[3 * BUCKETS + (h & MASK)]!++;
    counts[4 * BUCKETS + ((h >>> 11) & MASK)]!++;
    counts[5 * BUCKETS + (h >>> 22)]!++;
  }

  let lo2 = new Uint32Array(n);
  let hi2 = new Uint32Array(n);
  let idx2 = new Int32Array(n);
  for (let d = 0; d < DIGITS.length; d++) {
    const base = d * BUCKETS;
    let skip = false;
    let sum = 0;
    for (let b = 0; b < BUCKETS; b++) {
      const c = counts[base + b] as number;
      if (c === n) skip = true;
      counts[base + b] = sum;
      sum += c;
    }
    if (skip) continue;
    const [word, shift] = DIGITS[d] as readonly [0 | 1, number];
    const src = word === 0 ? lo : hi;
    for (let i = 0; i < n; i++) {
      const key = ((src[i] as number) >>> shift) & MASK;
      const dst = counts[base + key] as number;
      counts[base + key] = dst + 1;
      lo2[dst] = lo[i] as number;
      hi2[dst] = hi[i] as number;
      idx2[dst] = idx[i] as number;
    }
    [lo, lo2] = [lo2, lo];
    [hi, hi2] = [hi2, hi];
    [idx, idx2] = [idx2, idx];
  }
  order.set(idx);
}
