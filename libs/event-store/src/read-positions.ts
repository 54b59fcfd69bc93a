/**
 * The positions asked of `readAt`, checked (bigints of 1 or more: a caller's mistake is a
 * `RangeError`, not a query), each once, in ascending order.
 */
export function distinctPositions(positions: readonly bigint[]): bigint[] {
  const distinct = new Set<bigint>();
  for (const position of positions) {
    if (typeof position !== 'bigint' || position < 1n) throw new RangeError(`readAt: invalid position ${String(position)}`);
    distinct.add(position);
  }
  return [...distinct].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
