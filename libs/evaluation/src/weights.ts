/**
 * Row weights (>= 0), one per row. Float64Array for sample weights; the bootstrap passes its
 * resample counts as a Uint16Array (a quarter of the memory: the O(n) per-resample passes
 * read it in random order, so the smaller array stays in cache).
 */
export type RowWeights = Float64Array | Uint16Array;
