/** Polls `predicate` until it holds; throws a clear error naming `description` after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 3_000,
  description = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() >= deadline) {
      throw new Error(`waitFor: ${description} did not hold within ${timeoutMs} ms`);
    }
    // A short timer rather than setImmediate alone, so I/O-bound work gets the loop too.
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
