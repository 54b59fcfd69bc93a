import type { Response } from './http-client';
import { line, ms, percentile } from './report';

/** What a closed-loop run measured: only answers with the expected status count; the others are errors. */
export interface LoadResult {
  count: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
  /** The first unexpected answer (status and body) or failed request, to say what went wrong. */
  firstError?: string;
}

/**
 * Closed loop: `clients` loops each issue one request, wait for its answer and issue the next, for
 * `seconds`. Throughput and latency count the answers with status `expected`; any other status or a
 * failed request is counted as an error (the first one kept), so a server that refuses is not fast.
 */
export const load = async (
  clients: number,
  seconds: number,
  next: (client: number, i: number) => Promise<Response>,
  expected: number,
): Promise<LoadResult> => {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = 0; performance.now() < end; i += 1) {
        const t = performance.now();
        const outcome = await next(client, i).then(
          (response) => (response.status === expected ? undefined : `${response.status}: ${response.body.slice(0, 500)}`),
          (error: unknown) => (error instanceof Error ? error.message : String(error)),
        );
        if (outcome === undefined) {
          latencies.push(performance.now() - t);
        } else {
          errors += 1;
          firstError ??= outcome;
        }
      }
    }),
  );
  const elapsed = performance.now() - start;
  latencies.sort((a, b) => a - b);
  return {
    count: latencies.length,
    perSecond: (latencies.length / elapsed) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
    ...(firstError === undefined ? {} : { firstError }),
  };
};

/** `1,234 req/s  p50 1.20 ms  p99 9.80 ms`. */
export const describeLoad = (r: LoadResult): string =>
  `${Math.round(r.perSecond).toLocaleString('en-US')} req/s  p50 ${ms(r.p50)}  p99 ${ms(r.p99)}`;

/** `; 12 errors, first: 500: …`, or nothing when every answer was the expected one. */
export const describeErrors = (r: LoadResult): string =>
  r.errors === 0 ? '' : `; ${r.errors.toLocaleString('en-US')} errors, first: ${r.firstError ?? ''}`;

/** One aligned report line for a closed-loop run. */
export const reportLoad = (label: string, r: LoadResult): void => {
  line(label, `${describeLoad(r)}  (${r.count.toLocaleString('en-US')} requests${describeErrors(r)})`);
};
