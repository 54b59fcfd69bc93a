import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SERVICE_NAMES } from '@mrw/contracts';
import type { ServiceProcess } from './service-process';

/** What the distributed e2e tests share: the suite's services started as processes, and how the tests talk to them. */

/** Trained models and evaluation sets of the evaluator's tests. */
export const FIXTURES = resolve(__dirname, '../../libs/evaluator/fixtures');

export interface ApiAnswer {
  readonly status: number;
  /** Whatever the API answered, parsed: tests read it as they need. */
  readonly body: any;
}

/**
 * Each service's own token, written to a seed file the registry issues them from at start
 * (MRW_SEED_TOKENS_FILE), as an operator would.
 */
export const seedServiceTokens = async (dir: string): Promise<{ readonly tokens: Record<string, string>; readonly file: string }> => {
  const tokens: Record<string, string> = Object.fromEntries(SERVICE_NAMES.map((s) => [s, randomBytes(32).toString('base64url')]));
  const file = join(dir, 'seed-tokens.json');
  const seeds = SERVICE_NAMES.map((subject) => ({ subject, kind: 'service', roles: ['service'], token: tokens[subject] }));
  await writeFile(file, JSON.stringify(seeds), { mode: 0o600 });
  return { tokens, file };
};

/** A JSON call to `/api/v1` of one process. */
export const callApi = async (base: string, method: string, path: string, body: unknown, token: string): Promise<ApiAnswer> => {
  const response = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
};

/** A multipart upload to one process (in distributed mode each path prefix is served by its owner). */
export const uploadTo = async (base: string, path: string, parts: Record<string, Blob | string>, token: string): Promise<ApiAnswer> => {
  const form = new FormData();
  for (const [name, value] of Object.entries(parts)) form.append(name, value, ...(typeof value === 'string' ? [] : [name]));
  const response = await fetch(`${base}/api/v1${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  return { status: response.status, body: await response.json() };
};

/** How many `type` events each service's consumer group (`mrw-<service>`) reports with this outcome. */
export const consumerCounts = (services: readonly ServiceProcess[], type: string, outcome = 'handled'): Promise<number[]> =>
  Promise.all(services.map((s) => s.metric('mrw_consumer_messages_total', { group: `mrw-${s.name}`, type, outcome })));

/**
 * How many `type` events each group received, whatever it did with them: `handled` (and
 * recorded in its inbox), `ignored` (no handler in that service: nothing to do, nothing
 * recorded) or `duplicate` (handled before: skipped).
 */
export const consumerReceipts = async (services: readonly ServiceProcess[], type: string): Promise<number[]> => {
  const [handled, ignored, duplicate] = await Promise.all(['handled', 'ignored', 'duplicate'].map((outcome) => consumerCounts(services, type, outcome)));
  return handled!.map((n, i) => n + (ignored![i] ?? 0) + (duplicate![i] ?? 0));
};
