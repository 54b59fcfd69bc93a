import type { Response } from './http-client';
import { processTreeCpuMs } from './process-cpu';
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

/** A run's figures, and the server's CPU time per answered request (ms) where /proc tells. */
export type CostedLoad = LoadResult & { readonly cpuPerRequestMs?: number };

/**
 * Runs a load and adds what it cost the server: the CPU time of process `pid` and every process
 * below it (workers), per answered request. On two cores shared with the load generator this
 * moves far less between runs than the throughput does.
 */
export const costed = async (pid: number | undefined, run: () => Promise<LoadResult>): Promise<CostedLoad> => {
  const cpu = () => (pid === undefined ? undefined : processTreeCpuMs(pid));
  const before = cpu();
  const result = await run();
  const after = cpu();
  return before === undefined || after === undefined || result.count === 0 ? result : { ...result, cpuPerRequestMs: (after - before) / result.count };
};

/** `452 µs` or `9.8 ms`. */
export const cpuTime = (value: number): string => (value < 1 ? `${Math.round(value * 1000)} µs` : `${value.toFixed(1)} ms`);

/** One aligned report line for a closed-loop run (with the server's CPU per request when measured). */
export const reportLoad = (label: string, r: CostedLoad): void => {
  const cost = r.cpuPerRequestMs === undefined ? '' : `, server CPU ${cpuTime(r.cpuPerRequestMs)}/req`;
  line(label, `${describeLoad(r)}  (${r.count.toLocaleString('en-US')} requests${cost}${describeErrors(r)})`);
};
